// LoRA training speed: loads a model folder, attaches LoRA (r 16, alpha 32, all 7 projections,
// dropout 0) through our PEFT API and runs `--warmup` + `--steps` optimizer steps of
// axl::train::train_step (forward, loss, backward, AdamW, zero grad) on random token batches.
// Prints one JSON line: tokens/s, median step seconds, peak RSS. bench/train_lora.py runs it
// beside the same loop in transformers + PEFT. With --phases it also times forward / loss /
// backward / optimizer separately (a rough profile; those extra steps are not in the median).
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "axl/core/malloc_tuning.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/models/loader.h"
#include "axl/peft/lora.h"
#include "axl/train/optimizer.h"
#include "axl/train/token_loss.h"
#include "axl/train/train_step.h"
#include "tracking_allocator.h"  // bench/, beside this file

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of all threads of this process: on a busy machine it tracks the work done
// better than wall time does (under OMP_WAIT_POLICY=PASSIVE, where idle threads do not spin).
double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// A /proc/self/status memory line in MB: VmHWM (peak resident set, as the Python side
// measures its own) or VmRSS (now).
double status_mb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return 0.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// --fused: "none", "all" or a comma list of mlp, qkv, o, rope, rms.
axl::kernels::FusedOps parse_fused(const std::string& list) {
  axl::kernels::FusedOps f;
  if (list == "none") return f;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    const bool all = item == "all";
    if (all || item == "mlp") f.lora_mlp = true;
    if (all || item == "qkv") f.lora_qkv = true;
    if (all || item == "o") f.lora_o = true;
    if (all || item == "rope") f.rope = true;
    if (all || item == "rms") f.rms_norm = true;
    if (!all && item != "mlp" && item != "qkv" && item != "o" && item != "rope" && item != "rms")
      throw axl::Error("--fused: unknown function '" + item + "' (none, all, or mlp,qkv,o,rope,rms)");
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  axl::core::keep_freed_memory_for_reuse();  // as the axolotl binary does (AXL_MALLOC=default: off)
  std::string model_dir, dtype = "float32";
  int threads = 2, warmup = 2, steps = 5, batch = 4, seq = 256, rank = 16;
  double alpha = 32, dropout = 0.0;
  bool phases = false, track_memory = false;
  std::string fused = "none", loss = "chunked", checkpointing = "off";
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--phases") { phases = true; continue; }
    if (k == "--track-memory") { track_memory = true; continue; }
    if (i + 1 >= argc) { std::cerr << "bench_train_step: " << k << " needs a value\n"; return 2; }
    std::string v = argv[++i];
    if (k == "--model") model_dir = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--dtype") dtype = v;
    else if (k == "--warmup") warmup = std::stoi(v);
    else if (k == "--steps") steps = std::stoi(v);
    else if (k == "--batch") batch = std::stoi(v);
    else if (k == "--seq") seq = std::stoi(v);
    else if (k == "--rank") rank = std::stoi(v);
    else if (k == "--alpha") alpha = std::stod(v);
    else if (k == "--dropout") dropout = std::stod(v);
    else if (k == "--fused") fused = v;
    else if (k == "--loss") loss = v;
    else if (k == "--checkpointing") checkpointing = v;
    else { std::cerr << "bench_train_step: unknown option " << k << "\n"; return 2; }
  }
  if (model_dir.empty()) {
    std::cerr << "usage: bench_train_step --model DIR [--threads 2] [--dtype float32|bfloat16] "
                 "[--warmup 2] [--steps 5] [--batch 4] [--seq 256] [--phases] [--dropout 0]\n"
                 "  [--fused none|all|mlp,qkv,o,rope,rms] [--loss chunked|plain] [--checkpointing off|layer|offload]\n"
                 "  [--track-memory]  (peak bytes of live CPU tensors, from a counting allocator)\n";
    return 2;
  }
  // Before any tensor exists, so every CPU tensor is counted.
  axl::bench::TrackingCpuAllocator* tracker = track_memory ? &axl::bench::TrackingCpuAllocator::install() : nullptr;
  try {
    // As torch in Python with torch.set_num_threads(n): n intra-op threads, one inter-op.
    at::set_num_threads(threads);
    at::set_num_interop_threads(1);
    axl::models::LoadOptions lo;
    lo.dtype = axl::parse_dtype(dtype);
    axl::models::CausalLM model = axl::models::load_causal_lm(model_dir, lo);
    const double rss_loaded = status_mb("VmRSS");

    axl::peft::LoraConfig lc;
    lc.r = rank;
    lc.lora_alpha = alpha;
    lc.lora_dropout = dropout;
    lc.target_modules = axl::peft::TargetModules::from_json(
        nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}),
        "bench_train_step");
    axl::peft::Adapter adapter = axl::peft::attach_lora(model, lc, /*seed=*/0);
    adapter.set_training(true);

    std::vector<axl::train::NamedParam> params;
    for (auto& [name, t] : adapter.trainable()) params.push_back({name, t, true});
    axl::train::OptimizerOptions oo;  // AdamW, torch's fused kernel; lr 1e-4 as the HF side
    oo.lr = 1e-4;
    axl::train::Optimizer optimizer(axl::train::with_decay_flags(params), oo);
    axl::train::TrainState state;
    axl::train::StepOptions so;
    so.max_grad_norm = 0.0;  // the HF loop does not clip either
    so.fused = parse_fused(fused);
    if (loss != "chunked" && loss != "plain") throw axl::Error("--loss: chunked or plain");
    so.chunked_loss = loss == "chunked";
    if (checkpointing != "off" && checkpointing != "layer" && checkpointing != "offload")
      throw axl::Error("--checkpointing: off, layer or offload");
    so.gradient_checkpointing = checkpointing != "off";
    so.offload_checkpoints = checkpointing == "offload";

    at::Generator gen = axl::compat::make_cpu_generator(1234);
    auto make_batch = [&] {
      axl::train::MicroBatch mb;
      mb.input_ids = at::randint(model.config.vocab_size, {batch, seq}, gen, at::kLong);
      mb.labels = mb.input_ids;
      return mb;
    };

    std::vector<double> times, cpu_times;
    double last_loss = 0.0;
    int64_t live_before_steps = 0;
    for (int s = 0; s < warmup + steps; ++s) {
      std::vector<axl::train::MicroBatch> mbs{make_batch()};
      // The step's own peak: what lives beyond the model, adapter and optimizer state.
      if (tracker && s == warmup) tracker->reset_peak(), live_before_steps = tracker->live_bytes();
      auto t0 = Clock::now();
      const double c0 = process_cpu_s();
      auto r = axl::train::train_step(model, optimizer, nullptr, state, mbs, so);
      const double dt = seconds_since(t0), dc = process_cpu_s() - c0;
      last_loss = r.loss;
      if (s >= warmup) times.push_back(dt), cpu_times.push_back(dc);
    }
    const double med = median(times);
    nlohmann::json out = {{"side", "axolotl-cpp"}, {"dtype", dtype}, {"threads", threads},
                          {"batch", batch}, {"seq", seq}, {"steps", steps},
                          {"median_step_s", med}, {"tokens_per_s", batch * seq / med},
                          {"median_step_cpu_s", median(cpu_times)},
                          {"loss", last_loss}, {"trainable", adapter.trainable_count()},
                          {"step_times_s", times}, {"fused", fused}, {"loss_path", loss},
                          {"checkpointing", checkpointing}, {"dropout", dropout}};
    if (tracker) {
      const double mib = 1024.0 * 1024.0;
      out["peak_tensor_mib"] = static_cast<double>(tracker->peak_bytes()) / mib;
      out["step_peak_tensor_mib"] = static_cast<double>(tracker->peak_bytes() - live_before_steps) / mib;
      out["live_before_steps_mib"] = static_cast<double>(live_before_steps) / mib;
    }

    if (phases) {
      // One more step, split into its parts (same ops as train_step, minus bookkeeping).
      axl::train::MicroBatch mb = make_batch();
      auto t0 = Clock::now();
      axl::models::ForwardInput in;
      in.input_ids = mb.input_ids;
      at::Tensor h = model.hidden(in);
      const double t_hidden = seconds_since(t0);
      t0 = Clock::now();
      at::Tensor logits = model.logits_from_hidden(h);
      at::Tensor loss = axl::train::summed_causal_lm_loss(logits, mb.labels) /
                        static_cast<double>(axl::train::trained_token_count(mb.labels));
      const double t_loss = seconds_since(t0);
      t0 = Clock::now();
      loss.backward();
      const double t_backward = seconds_since(t0);
      t0 = Clock::now();
      optimizer.step();
      optimizer.zero_grad();
      const double t_opt = seconds_since(t0);
      out["phases_s"] = {{"forward_hidden", t_hidden}, {"head_and_loss", t_loss},
                         {"backward", t_backward}, {"optimizer", t_opt}};
    }
    out["rss_after_load_mb"] = rss_loaded;
    out["peak_rss_mb"] = status_mb("VmHWM");
    std::cout << out.dump() << std::endl;
  } catch (const axl::Error& e) {
    std::cerr << "bench_train_step: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
