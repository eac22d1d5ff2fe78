// Gradient checkpointing's memory effect: one LoRA forward + backward of a random Llama-shaped
// model (default 8 layers, hidden 512, batch 4 x 512 tokens, float32 on the CPU), with or
// without checkpointing. Prints one JSON line: the resident memory the forward leaves alive
// for backward (VmRSS after the forward minus before it: the saved activations), the peak RSS
// of the process, and the step's seconds. Run it once per setting (peak RSS is per process):
//   bench_checkpoint_memory --checkpointing 0 ; bench_checkpoint_memory --checkpointing 1
#include <ATen/Parallel.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "axl/core/malloc_tuning.h"
#include "axl/core/torch_compat.h"
#include "axl/models/loader.h"
#include "axl/peft/lora.h"
#include "axl/train/activation_checkpoint.h"
#include "axl/train/token_loss.h"

namespace {

// A /proc/self/status field (VmRSS, VmHWM) in MiB.
double proc_status_mib(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  axl::core::keep_freed_memory_for_reuse();  // as the axolotl binary does (AXL_MALLOC=default: off)
  int64_t layers = 8, hidden = 512, batch = 4, seq = 512;
  int threads = 2;
  bool checkpointing = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int64_t v = std::stoll(argv[i + 1]);
    if (k == "--checkpointing") checkpointing = v != 0;
    else if (k == "--layers") layers = v;
    else if (k == "--hidden") hidden = v;
    else if (k == "--batch") batch = v;
    else if (k == "--seq") seq = v;
    else if (k == "--threads") threads = static_cast<int>(v);
    else { std::cerr << "bench_checkpoint_memory: unknown option " << k << "\n"; return 2; }
  }
  at::set_num_threads(threads);
  axl::models::ModelConfig mc;
  mc.model_type = "llama";
  mc.vocab_size = 4096;
  mc.hidden_size = hidden;
  mc.intermediate_size = hidden * 11 / 4;
  mc.num_layers = layers;
  mc.num_heads = hidden / 64;
  mc.num_kv_heads = hidden / 64;
  mc.head_dim = 64;
  mc.max_position_embeddings = seq;
  mc.rope.theta = 10000.0;
  axl::models::CausalLM model = axl::models::random_causal_lm(mc, {}, 1);
  axl::peft::LoraConfig lc;
  lc.r = 16;
  lc.lora_alpha = 32;
  axl::peft::TargetModules t;
  t.kind = axl::peft::TargetModules::Kind::AllLinear;
  lc.target_modules = t;
  axl::peft::Adapter adapter = axl::peft::attach_lora(model, lc, 1);
  adapter.set_training(true);

  auto gen = axl::compat::make_cpu_generator(2);
  at::Tensor ids = at::randint(0, mc.vocab_size, {batch, seq}, gen, at::kLong);
  axl::models::ForwardInput in;
  in.input_ids = ids;
  if (checkpointing) in.layer_runner = axl::train::checkpoint_every_layer(model);
  const auto t0 = std::chrono::steady_clock::now();
  const double before = proc_status_mib("VmRSS");
  at::Tensor hidden_states = model.hidden(in);
  const double after_forward = proc_status_mib("VmRSS");
  at::Tensor loss = axl::train::summed_causal_lm_loss(model.logits_from_hidden(hidden_states), ids);
  loss.backward();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"bench", "checkpoint_memory"},     {"gradient_checkpointing", checkpointing},
                      {"layers", layers},                 {"hidden", hidden},
                      {"tokens", batch * seq},            {"forward_kept_mib", after_forward - before},
                      {"peak_rss_mib", proc_status_mib("VmHWM")}, {"step_s", seconds}};
  std::cout << j.dump() << std::endl;
  return 0;
}
