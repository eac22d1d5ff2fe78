// LoRA / QLoRA training speed and memory on a GPU, our side of scripts/gpu-suite.sh bench-1b
// and bench-8b (bench/gpu_train_hf.py is the Hugging Face side). A randomly initialised model
// of a given architecture (--config, a config.json: bench/gpu_configs/) in bf16, optionally
// with 4-bit NF4 bases (--bits 4, QLoRA), LoRA r 16 / alpha 32 on all 7 projections, packed
// rows (--micro-batch rows of --seq tokens, samples of pseudo-random lengths laid out exactly
// as gpu_train_hf.py lays them out, never crossing a row) trained with axl::train::train_step
// and AdamW. Prints one JSON line: tokens/s over the steps after --warmup, peak GPU memory
// allocated and reserved during training, and MFU counting 4 x the frozen matmul parameters
// per token (forward + input gradients; LoRA's small matmuls left out) plus causal attention.
#include <c10/cuda/CUDACachingAllocator.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/kernels/cuda_switch.h"
#include "axl/models/loader.h"
#include "axl/models/model_config.h"
#include "axl/peft/lora.h"
#include "axl/quant/quantize_model.h"
#include "axl/train/optimizer.h"
#include "axl/train/train_step.h"

namespace {

using Clock = std::chrono::steady_clock;

// Sample lengths of one packed row: 128..2048 from a 31-bit LCG, cut at the row's end (the same
// sequence as gpu_train_hf.py's packed_lengths).
std::vector<int64_t> packed_lengths(int64_t rows, int64_t seq) {
  uint64_t state = 12345;
  std::vector<int64_t> lengths;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t left = seq; left > 0;) {
      state = (1103515245 * state + 12345) % 2147483648ULL;
      const int64_t len = std::min<int64_t>(left, 128 + static_cast<int64_t>(state % 1921));
      lengths.push_back(len);
      left -= len;
    }
  }
  return lengths;
}

double gib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, kernels_list, name, device_name = "cuda";
  int bits = 16, steps = 30, warmup = 5, rank = 16;
  int64_t seq = 2048, micro_batch = 4;
  bool checkpointing = false, offload = false, fused = false;
  double peak_tflops = 989.4;  // H100/H200 SXM dense bf16
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--gradient-checkpointing") { checkpointing = true; continue; }
    if (k == "--offload") { offload = checkpointing = true; continue; }
    if (k == "--fused") { fused = true; continue; }
    if (i + 1 >= argc) { std::cerr << "bench_gpu_train: " << k << " needs a value\n"; return 2; }
    const std::string v = argv[++i];
    if (k == "--config") config_path = v;
    else if (k == "--name") name = v;
    else if (k == "--bits") bits = std::stoi(v);
    else if (k == "--steps") steps = std::stoi(v);
    else if (k == "--warmup") warmup = std::stoi(v);
    else if (k == "--rank") rank = std::stoi(v);
    else if (k == "--seq") seq = std::stoll(v);
    else if (k == "--micro-batch") micro_batch = std::stoll(v);
    else if (k == "--kernels") kernels_list = v;
    else if (k == "--peak-tflops") peak_tflops = std::stod(v);
    else if (k == "--device") device_name = v;
    else { std::cerr << "bench_gpu_train: unknown option " << k << "\n"; return 2; }
  }
  if (config_path.empty() || (bits != 16 && bits != 4) || warmup >= steps) {
    std::cerr << "usage: bench_gpu_train --config config.json [--name N] [--bits 16|4] [--steps 30] [--warmup 5]\n"
                 "  [--seq 2048] [--micro-batch 4] [--rank 16] [--kernels all|rms_norm,...] [--fused]\n"
                 "  [--gradient-checkpointing] [--offload] [--peak-tflops 989.4]\n"
                 "  [--device cpu]  (a dry run of the program with a tiny --config; no memory figures)\n";
    return 2;
  }
  try {
    const at::Device device(device_name == "cpu" ? at::kCPU : at::kCUDA);
    if (device.is_cuda() && !at::hasCUDA()) throw axl::Error("bench_gpu_train needs a CUDA device");
    axl::kernels::cuda::set_enabled_kernels(kernels_list);
    const auto t_setup = Clock::now();
    std::ifstream f(config_path);
    std::stringstream text;
    text << f.rdbuf();
    const axl::models::ModelConfig cfg = axl::models::parse_model_config(text.str(), config_path);
    axl::models::LoadOptions lo;
    lo.device = device;
    lo.dtype = at::kBFloat16;
    axl::models::CausalLM model = axl::models::random_causal_lm(cfg, lo, /*seed=*/0);
    if (bits == 4) {
      axl::quant::QuantizeSpec spec;  // NF4, blocksize 64, double quantisation: QLoRA's settings
      spec.compute_dtype = at::kBFloat16;
      axl::quant::quantize_linear_slots(model, spec);
    }
    axl::peft::LoraConfig lc;
    lc.r = rank;
    lc.lora_alpha = 2.0 * rank;
    lc.lora_dropout = 0.0;
    lc.target_modules = axl::peft::TargetModules::from_json(
        nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}),
        "bench_gpu_train");
    axl::peft::Adapter adapter = axl::peft::attach_lora(model, lc, /*seed=*/0);
    adapter.set_training(true);
    std::vector<axl::train::NamedParam> params;
    for (auto& [pname, t] : adapter.trainable()) params.push_back({pname, t, true});
    axl::train::OptimizerOptions oo;  // torch's fused AdamW, lr 1e-4, as the HF side
    oo.lr = 1e-4;
    axl::train::Optimizer optimizer(axl::train::with_decay_flags(params), oo);
    axl::train::TrainState state;
    axl::train::StepOptions so;
    so.max_grad_norm = 0.0;  // the HF loop does not clip either
    so.gradient_checkpointing = checkpointing;
    so.offload_checkpoints = offload;
    if (fused) so.fused = {true, true, true, true, true};

    // One packed row of micro_batch x seq tokens: positions restart per sample.
    const std::vector<int64_t> lengths = packed_lengths(micro_batch, seq);
    const int64_t tokens = micro_batch * seq;
    std::vector<int32_t> cu{0};
    std::vector<int64_t> pos;
    double attn_pairs = 0;  // sum over samples of len^2 / 2: the causal score count
    for (int64_t len : lengths) {
      cu.push_back(cu.back() + static_cast<int32_t>(len));
      for (int64_t p = 0; p < len; ++p) pos.push_back(p);
      attn_pairs += 0.5 * static_cast<double>(len) * static_cast<double>(len);
    }
    at::Tensor cu_seqlens = at::tensor(cu);
    at::Tensor position_ids = at::tensor(pos).view({1, tokens}).to(device);
    at::Generator gen = axl::compat::make_cpu_generator(1234);
    const double setup_s = std::chrono::duration<double>(Clock::now() - t_setup).count();

    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
    std::vector<double> losses, times;
    for (int s = 0; s < steps; ++s) {
      axl::train::MicroBatch mb;
      mb.input_ids = at::randint(cfg.vocab_size, {1, tokens}, gen, at::kLong).to(device);
      mb.labels = mb.input_ids;
      mb.position_ids = position_ids;
      mb.cu_seqlens = cu_seqlens;
      std::vector<axl::train::MicroBatch> mbs{mb};
      const auto t0 = Clock::now();
      auto r = axl::train::train_step(model, optimizer, nullptr, state, mbs, so);  // .loss syncs
      times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      losses.push_back(r.loss);
    }
    double timed = 0;
    for (int s = warmup; s < steps; ++s) timed += times[s];
    const double step_s = timed / (steps - warmup);

    // Frozen matmul parameters: the 7 projections of every layer and the head.
    const int64_t h = cfg.hidden_size, q_dim = cfg.num_heads * cfg.head_dim,
                  kv_dim = cfg.num_kv_heads * cfg.head_dim;
    const double per_layer = static_cast<double>(h * q_dim * 2 + h * kv_dim * 2 + 3 * h * cfg.intermediate_size);
    const double matmul_params = per_layer * cfg.num_layers + static_cast<double>(cfg.vocab_size * h);
    // Causal attention, forward (QK^T, PV: 4 flops per score and head dim) and backward (8).
    const double attn_flops = 12.0 * static_cast<double>(q_dim) * attn_pairs * cfg.num_layers;
    const double flops_per_step = 4.0 * matmul_params * tokens + attn_flops;
    nlohmann::json out = {
        {"bench", "gpu_train"}, {"side", "axolotl-cpp"}, {"name", name.empty() ? config_path : name},
        {"bits", bits}, {"lora_r", rank}, {"seq", seq}, {"micro_batch", micro_batch}, {"packing", true},
        {"samples_per_step", lengths.size()}, {"steps", steps}, {"timed_steps", steps - warmup},
        {"kernels", kernels_list}, {"fused", fused}, {"gradient_checkpointing", checkpointing}, {"offload", offload},
        {"setup_s", setup_s}, {"step_s", step_s}, {"tokens_per_s", tokens / step_s},
        {"matmul_params", matmul_params}, {"flops_per_token", flops_per_step / tokens},
        {"mfu", flops_per_step / step_s / (peak_tflops * 1e12)}, {"peak_tflops", peak_tflops},
        {"loss_first", losses.front()}, {"loss_last", losses.back()}, {"trainable", adapter.trainable_count()}};
    if (device.is_cuda()) {
      const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
      out["peak_allocated_gib"] = gib(stats.allocated_bytes[0].peak);
      out["peak_reserved_gib"] = gib(stats.reserved_bytes[0].peak);
    }
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    nlohmann::json err = {{"bench", "gpu_train"}, {"side", "axolotl-cpp"}, {"name", name}, {"error", e.what()}};
    std::cout << err.dump() << std::endl;
    return 1;
  }
  return 0;
}
