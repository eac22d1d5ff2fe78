// Dev program for tests/peers/refs-peft.sh: attaches a LoRA to a model with our code, "trains"
// it with a few deterministic plain-SGD steps (dropout on, fixed batch and seeds) and saves it
// in PEFT's format, so the live PEFT can load it. Usage: peft_make_adapter MODEL_DIR OUT_DIR
#include <cstdio>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "axl/peft/lora.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: peft_make_adapter MODEL_DIR OUT_DIR\n");
    return 2;
  }
  try {
    auto model = axl::models::load_causal_lm(argv[1]);
    axl::peft::LoraConfig c;
    c.r = 8;
    c.lora_alpha = 16;
    c.use_rslora = true;
    c.lora_dropout = 0.1;
    // A regex string target (PEFT full-matches it) covering attention and the MLP's down_proj.
    c.target_modules = axl::peft::TargetModules::from_json(
        ".*\\.layers\\.\\d+\\.(self_attn\\.(q|k|v|o)_proj|mlp\\.down_proj)", "peft_make_adapter");
    axl::peft::Adapter adapter = axl::peft::attach_lora(model, c, /*seed=*/7);
    adapter.set_training(true);
    at::manual_seed(11);  // dropout masks
    at::Generator gen = axl::compat::make_cpu_generator(5);
    at::Tensor ids = at::randint(model.config.vocab_size, {4, 32}, gen, at::kLong);
    for (int step = 0; step < 5; ++step) {
      axl::models::ForwardInput in;
      in.input_ids = ids;
      at::Tensor loss = axl::models::causal_lm_loss(model.forward(in).logits, ids);
      loss.backward();
      at::NoGradGuard ng;
      for (auto& [name, t] : adapter.trainable()) {
        t.sub_(t.grad() * 0.02);
        t.mutable_grad().zero_();
      }
      std::fprintf(stderr, "step %d loss %.6f\n", step, loss.item<double>());
    }
    axl::peft::save_adapter(adapter, argv[2]);
    std::fprintf(stderr, "saved %zu LoRA layers (%lld trainable values) to %s\n", adapter.layers.size(),
                 static_cast<long long>(adapter.trainable_count()), argv[2]);
  } catch (const axl::Error& e) {
    std::fprintf(stderr, "peft_make_adapter: %s\n", e.what());
    return 2;
  }
  return 0;
}
