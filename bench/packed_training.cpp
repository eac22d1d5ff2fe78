// Sample packing on CPU: (1) packed-row attention, per sample segment (what kernels::attention
// does on CPU) against one block-diagonal mask over the row (sdpa with a mask, and eager), on
// the segment lengths of real packed rows; (2) LoRA training tokens/s on the same data packed
// (rows of micro_batch_size x sequence_len) and unpacked (micro_batch_size padded samples).
// Data: an Alpaca JSON tokenized with a tokenizer folder at --sequence-len (token ids folded
// into the model's vocabulary). Model: a random Llama (hidden 256, 4 layers, 8 heads / 4 kv
// heads, head_dim 32, vocab 8192). Prints one JSON line per measurement.
#include <ATen/Parallel.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "axl/core/malloc_tuning.h"
#include "axl/config/load_config.h"
#include "axl/core/torch_compat.h"
#include "axl/data/prepare.h"
#include "axl/kernels/attention.h"
#include "axl/kernels/packed_attention.h"
#include "axl/models/loader.h"
#include "axl/models/model_config.h"
#include "axl/peft/lora.h"
#include "axl/tokenizer/tokenizer.h"
#include "axl/train/batcher.h"
#include "axl/train/optimizer.h"
#include "axl/train/train_step.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

// Forward + backward seconds per call, the best of `reps`.
template <class F>
double time_fwd_bwd(F&& f, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    for (const at::Tensor* t : {&q, &k, &v}) const_cast<at::Tensor&>(*t).mutable_grad() = at::Tensor();
    auto t0 = Clock::now();
    f().sum().backward();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  axl::core::keep_freed_memory_for_reuse();  // as the axolotl binary does (AXL_MALLOC=default: off)
  const std::string data = arg(argc, argv, "--data", "");
  const std::string tokdir = arg(argc, argv, "--tokenizer", "");
  const int threads = std::stoi(arg(argc, argv, "--threads", "2"));
  const int64_t seq = std::stoll(arg(argc, argv, "--sequence-len", "512"));
  const int64_t mbs = std::stoll(arg(argc, argv, "--micro-batch-size", "4"));
  const int64_t steps = std::stoll(arg(argc, argv, "--steps", "6"));
  if (data.empty() || tokdir.empty()) {
    std::cerr << "usage: bench_packed_training --data alpaca.json --tokenizer DIR [--threads 2] [--sequence-len 512]"
                 " [--micro-batch-size 4] [--steps 6]\n";
    return 2;
  }
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);

  const std::string yaml = "base_model: " + tokdir + "\nsequence_len: " + std::to_string(seq) +
                           "\ndatasets:\n  - path: " + data + "\n    type: alpaca\n" +
                           "micro_batch_size: 1\ngradient_accumulation_steps: 1\nlearning_rate: 0.0001\n";
  axl::config::LoadOptions lo;
  lo.resolve_models = false;
  auto cfg = axl::config::load_config_text(yaml, "bench.yml", lo).config;
  auto tok = axl::tokenizer::load_tokenizer(tokdir);
  auto prepared = axl::data::prepare_datasets(cfg, *tok);
  const int64_t vocab = 8192;
  axl::data::TokenizedStore store;  // ids folded into the model's vocabulary
  for (size_t i = 0; i < prepared.train.size(); ++i) {
    std::vector<int32_t> ids = prepared.train.input_ids(i).to_vector(), labels = prepared.train.labels(i).to_vector();
    for (auto& t : ids) t %= vocab;
    for (auto& t : labels)
      if (t >= 0) t %= vocab;
    store.append(ids, labels);
  }

  axl::train::BatcherOptions packed_o;
  packed_o.micro_batch_size = mbs;
  packed_o.sample_packing = true;
  packed_o.sequence_len = seq;
  axl::train::Batcher packed(store, packed_o);
  axl::train::BatcherOptions plain_o;
  plain_o.micro_batch_size = mbs;
  axl::train::Batcher plain(store, plain_o);
  const auto& plan = packed.packing_plan();
  std::cout << nlohmann::json{{"bench", "packing_plan"}, {"samples", store.size()}, {"rows", plan.bins.size()},
                              {"capacity", plan.capacity}, {"efficiency", plan.efficiency()}}
                   .dump()
            << std::endl;

  // (1) Attention on the first packed rows: heads 8, head_dim 32.
  for (size_t row = 0; row < 3 && row < plan.bins.size(); ++row) {
    axl::train::MicroBatch mb = packed.micro_batch(0, row);
    const int64_t t = mb.input_ids.size(1);
    auto g = axl::compat::make_cpu_generator(row);
    at::Tensor q = at::randn({1, 8, t, 32}, g, at::kFloat).requires_grad_(true);
    at::Tensor k = at::randn({1, 4, t, 32}, g, at::kFloat).requires_grad_(true);
    at::Tensor v = at::randn({1, 4, t, 32}, g, at::kFloat).requires_grad_(true);
    axl::kernels::AttentionSpec spec;
    spec.cu_seqlens = mb.cu_seqlens;
    auto per_segment = [&] { return axl::kernels::attention_per_segment(q, k, v, spec); };
    auto sdpa_mask = [&] {
      at::Tensor mask = axl::kernels::build_attention_mask(spec, 1, t, t, at::kFloat, q.device());
      return at::scaled_dot_product_attention(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), mask, 0.0,
                                              false, 1.0 / std::sqrt(32.0));
    };
    auto eager = [&] {
      axl::kernels::AttentionSpec e = spec;
      e.impl = axl::kernels::AttentionImpl::Eager;
      return axl::kernels::attention(q, k, v, e);
    };
    const double max_diff = (per_segment() - sdpa_mask()).abs().max().item<double>();
    std::cout << nlohmann::json{{"bench", "packed_attention_fwd_bwd"}, {"row", row}, {"tokens", t},
                                {"segments", mb.cu_seqlens.numel() - 1}, {"threads", threads},
                                {"per_segment_s", time_fwd_bwd(per_segment, q, k, v, 5)},
                                {"sdpa_block_mask_s", time_fwd_bwd(sdpa_mask, q, k, v, 5)},
                                {"eager_block_mask_s", time_fwd_bwd(eager, q, k, v, 5)},
                                {"max_abs_diff", max_diff}}
                     .dump()
              << std::endl;
  }

  // (2) LoRA training steps, packed vs unpacked.
  nlohmann::json mc = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", 256},
                       {"intermediate_size", 688}, {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                       {"num_hidden_layers", 4}, {"vocab_size", vocab}, {"max_position_embeddings", 4096},
                       {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}, {"hidden_act", "silu"},
                       {"tie_word_embeddings", false}};
  // Alternating, twice each, so that a change in the machine's load hits both alike.
  for (bool use_packing : {false, true, false, true}) {
    axl::models::LoadOptions mo;
    auto model = axl::models::random_causal_lm(axl::models::parse_model_config(mc.dump(), "bench"), mo, 0);
    axl::peft::LoraConfig lc;
    lc.r = 16;
    lc.lora_alpha = 32;
    lc.target_modules = axl::peft::TargetModules{};
    lc.target_modules->kind = axl::peft::TargetModules::Kind::AllLinear;
    auto adapter = axl::peft::attach_lora(model, lc, 1);
    std::vector<axl::train::NamedParam> params;
    for (auto& [name, t] : adapter.trainable()) params.push_back({name, t, true});
    axl::train::OptimizerOptions oo;
    oo.kind = axl::train::OptimizerKind::AdamWFused;
    oo.lr = 1e-4;
    axl::train::Optimizer opt(params, oo);
    axl::train::TrainState state;
    axl::train::Batcher& b = use_packing ? packed : plain;
    // The same number of real tokens either way: as many unpacked micro-batches as hold the
    // samples of `steps` packed rows.
    const int64_t micro = use_packing ? steps : steps * static_cast<int64_t>(plan.bins.empty() ? 1 : plan.bins[0].size()) / mbs;
    int64_t tokens = 0, padded = 0;
    double seconds = 0;
    for (int64_t i = 0; i <= micro; ++i) {
      std::vector<axl::train::MicroBatch> mbs_vec{b.micro_batch(0, static_cast<size_t>(i) % b.micro_batches_per_epoch())};
      auto t0 = Clock::now();
      auto r = axl::train::train_step(model, opt, nullptr, state, mbs_vec);
      if (i == 0) continue;  // warm-up
      seconds += seconds_since(t0);
      tokens += r.input_tokens;
      padded += mbs_vec[0].input_ids.numel();
    }
    std::cout << nlohmann::json{{"bench", "lora_train_cpu"}, {"packed", use_packing}, {"threads", threads},
                                {"micro_batches", micro}, {"real_tokens", tokens}, {"computed_tokens", padded},
                                {"seconds", seconds}, {"real_tokens_per_s", tokens / seconds}}
                     .dump()
              << std::endl;
  }
  return 0;
}
