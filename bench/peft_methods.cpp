// Every PEFT method on the training benchmark's model (bench/train_lora.py: a random Llama,
// hidden 512, 8 layers, 8 / 4 heads, MLP 1376, vocab 32000, untied head; batches of 4 x 256):
// forward+backward time, optimizer-step time, trainable values and the bytes of AdamW's state
// tensors, each relative to LoRA. Each method is attached through the registry
// (peft::attach_adapter with its adapter_config.json), so a method that is not registered, or
// fails, gets an "error" line and the others still run. One JSON line per method, then a summary.
#include <ATen/Parallel.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "axl/core/malloc_tuning.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/models/loader.h"
#include "axl/models/model_config.h"
#include "axl/peft/method_registry.h"
#include "axl/train/optimizer.h"
#include "axl/train/token_loss.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The benchmark model of bench/train_lora.py.
const char* kModelJson = R"({"model_type":"llama","vocab_size":32000,"hidden_size":512,
  "intermediate_size":1376,"num_hidden_layers":8,"num_attention_heads":8,"num_key_value_heads":4,
  "max_position_embeddings":2048,"tie_word_embeddings":false,"rms_norm_eps":1e-6})";

// Each method's adapter_config.json fields beyond peft_type/task_type: the 7 projections
// where the method targets layers, rank 16 where it has one (LoRA's bench setting), PEFT's
// defaults otherwise.
json method_config(const std::string& method) {
  const json all7 = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  const json lora = {{"peft_type", "LORA"}, {"r", 16}, {"lora_alpha", 32}, {"lora_dropout", 0.0}, {"target_modules", all7}};
  json c;
  if (method == "lora") c = lora;
  else if (method == "rslora") (c = lora)["use_rslora"] = true;
  else if (method == "dora") (c = lora)["use_dora"] = true;
  else if (method == "ia3")
    c = {{"peft_type", "IA3"}, {"target_modules", all7}, {"feedforward_modules", {"gate_proj", "up_proj", "down_proj"}}};
  else if (method == "loha") c = {{"peft_type", "LOHA"}, {"r", 16}, {"alpha", 32}, {"target_modules", all7}};
  else if (method == "lokr") c = {{"peft_type", "LOKR"}, {"r", 16}, {"alpha", 32}, {"target_modules", all7}};
  else if (method == "oft") c = {{"peft_type", "OFT"}, {"r", 0}, {"oft_block_size", 32}, {"target_modules", all7}};
  else if (method == "boft")
    c = {{"peft_type", "BOFT"}, {"boft_block_size", 8}, {"boft_n_butterfly_factor", 1}, {"target_modules", all7}};
  else if (method == "vera")
    c = {{"peft_type", "VERA"}, {"r", 256}, {"projection_prng_key", 0}, {"save_projection", true}, {"target_modules", all7}};
  else if (method == "adalora")
    c = {{"peft_type", "ADALORA"}, {"init_r", 16}, {"target_r", 8}, {"lora_alpha", 32}, {"total_step", 1000},
         {"target_modules", all7}};
  else if (method == "prefix_tuning") c = {{"peft_type", "PREFIX_TUNING"}, {"num_virtual_tokens", 16}};
  else if (method == "prompt_tuning")
    c = {{"peft_type", "PROMPT_TUNING"}, {"num_virtual_tokens", 16}, {"prompt_tuning_init", "RANDOM"}};
  else throw axl::Error("bench_peft_methods: unknown method " + method);
  c["task_type"] = "CAUSAL_LM";
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// CUDA runs asynchronously: wait for the device before reading the clock.
void sync(const at::Device& d) {
  if (d.is_cuda()) c10::impl::getDeviceGuardImpl(d.type())->synchronizeDevice(d.index());
}

// CPU seconds of all this process's threads: on a machine shared with other jobs it tracks the
// work better than wall time (with OMP_WAIT_POLICY=PASSIVE, where idle workers do not spin).
double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

int64_t bytes_of(const at::Tensor& t) { return t.defined() ? static_cast<int64_t>(t.nbytes()) : 0; }

struct Options {
  std::string model_dir, device = "cpu", dtype = "float32";
  int threads = 2, warmup = 1, steps = 2, batch = 4, seq = 256;
  std::vector<std::string> methods = {"lora", "rslora", "dora", "ia3", "loha", "lokr", "oft", "boft",
                                      "vera", "adalora", "prefix_tuning", "prompt_tuning"};
};

// One method: attach, `warmup` + `steps` steps of forward, causal-LM loss (+ the method's
// regularisation), backward, AdamW step (+ the method's after-step hook), zero grad.
json run_method(axl::models::CausalLM& model, const std::string& method, const Options& o) {
  const at::Device device = model.embed.device();
  axl::peft::Adapter adapter = axl::peft::attach_adapter(model, method_config(method), "bench " + method, 0);
  adapter.set_training(true);
  std::vector<axl::train::NamedParam> params;
  int64_t trainable_bytes = 0;
  for (auto& [name, t] : adapter.trainable()) params.push_back({name, t, true}), trainable_bytes += bytes_of(t);
  int64_t frozen_bytes = 0;  // saved but not trained (VeRA's projections, BOFT's permutations)
  for (auto& [name, t] : adapter.state_dict())
    if (!t.requires_grad()) frozen_bytes += bytes_of(t);
  axl::train::OptimizerOptions oo;  // AdamW with torch's fused kernel, as the LoRA bench
  oo.lr = 1e-4;
  axl::train::Optimizer optimizer(axl::train::with_decay_flags(params), oo);
  if (adapter.hooks) adapter.hooks->on_train_begin(o.warmup + o.steps);

  at::Generator gen = axl::compat::make_cpu_generator(1234);
  std::vector<double> fwd_bwd, fwd_bwd_cpu, opt_times;
  double loss_value = 0.0;
  for (int s = 0; s < o.warmup + std::max(o.steps, 1); ++s) {
    at::Tensor ids = at::randint(model.config.vocab_size, {o.batch, o.seq}, gen, at::kLong).to(device);
    axl::models::ForwardInput in;
    in.input_ids = ids;
    sync(device);
    auto t0 = Clock::now();
    const double c0 = process_cpu_s();
    at::Tensor loss = axl::train::summed_causal_lm_loss_from_hidden(model, model.hidden(in), ids) /
                      static_cast<double>(axl::train::trained_token_count(ids));
    if (at::Tensor reg = adapter.regularization_loss(); reg.defined()) loss = loss + reg.to(loss.scalar_type());
    loss.backward();
    sync(device);
    auto t1 = Clock::now();
    const double c1 = process_cpu_s();
    optimizer.step();
    if (adapter.hooks) adapter.hooks->after_optimizer_step(s + 1);
    optimizer.zero_grad();
    sync(device);
    auto t2 = Clock::now();
    loss_value = loss.item<double>();
    if (s >= o.warmup) {
      fwd_bwd.push_back(std::chrono::duration<double>(t1 - t0).count());
      fwd_bwd_cpu.push_back(c1 - c0);
      opt_times.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
  }
  int64_t state_bytes = 0;
  for (const auto& [name, st] : optimizer.state())
    state_bytes += bytes_of(st.exp_avg) + bytes_of(st.exp_avg_sq) + bytes_of(st.momentum_buffer);
  const double fb = median(fwd_bwd), op = median(opt_times);
  return {{"bench", "peft_methods"}, {"method", method}, {"peft_type", adapter.config->peft_type()},
          {"trainable", adapter.trainable_count()}, {"trainable_tensors", params.size()},
          {"trainable_bytes", trainable_bytes}, {"frozen_adapter_bytes", frozen_bytes},
          {"optimizer_state_bytes", state_bytes}, {"median_fwd_bwd_s", fb},
          {"min_fwd_bwd_s", *std::min_element(fwd_bwd.begin(), fwd_bwd.end())},
          {"median_fwd_bwd_cpu_s", median(fwd_bwd_cpu)}, {"median_optimizer_s", op},
          {"median_step_s", fb + op}, {"tokens_per_s", o.batch * o.seq / (fb + op)}, {"loss", loss_value},
          {"fwd_bwd_s", fwd_bwd}};
}

// The 1-minute load average: how busy the machine was (timings on a shared machine are noisy).
double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = 0.0;
  f >> l;
  return l;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  axl::core::keep_freed_memory_for_reuse();  // as the axolotl binary does (AXL_MALLOC=default: off)
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) { std::cerr << "bench_peft_methods: " << k << " needs a value\n"; return 2; }
    const std::string v = argv[++i];
    if (k == "--model") o.model_dir = v;
    else if (k == "--device") o.device = v;
    else if (k == "--dtype") o.dtype = v;
    else if (k == "--threads") o.threads = std::stoi(v);
    else if (k == "--warmup") o.warmup = std::stoi(v);
    else if (k == "--steps") o.steps = std::stoi(v);
    else if (k == "--batch") o.batch = std::stoi(v);
    else if (k == "--seq") o.seq = std::stoi(v);
    else if (k == "--methods") o.methods = split(v);
    else {
      std::cerr << "usage: bench_peft_methods [--model DIR] [--device cpu|cuda] [--dtype float32|bfloat16] "
                   "[--threads 2] [--warmup 1] [--steps 2] [--batch 4] [--seq 256] [--methods lora,dora,...]\n";
      return 2;
    }
  }
  try {
    at::set_num_threads(o.threads);
    at::set_num_interop_threads(1);
    axl::models::LoadOptions lo;
    lo.device = axl::parse_device(o.device);
    lo.dtype = axl::parse_dtype(o.dtype);
    // One base for all methods: each adapter leaves it unchanged when it goes.
    axl::models::CausalLM model =
        o.model_dir.empty() ? axl::models::random_causal_lm(axl::models::parse_model_config(kModelJson, "bench"), lo, 0, 0.02)
                            : axl::models::load_causal_lm(o.model_dir, lo);
    // LoRA first: every other method is reported relative to it.
    std::vector<std::string> order = {"lora"};
    for (const auto& m : o.methods)
      if (m != "lora") order.push_back(m);
    json lora, summary = json::object(), failed = json::array();
    for (const auto& m : order) {
      json line;
      try {
        line = run_method(model, m, o);
      } catch (const std::exception& e) {  // this method's failure; the others still run
        line = {{"bench", "peft_methods"}, {"method", m}, {"error", e.what()}};
        failed.push_back(m);
      }
      if (m == "lora" && !line.contains("error")) lora = line;
      if (!line.contains("error") && !lora.is_null()) {
        auto ratio = [&](const char* key) {
          const double base = lora[key].get<double>();
          return base > 0 ? line[key].get<double>() / base : 0.0;
        };
        // The fastest step: other jobs on a shared machine only ever slow a step down.
        line["fwd_bwd_vs_lora"] = ratio("min_fwd_bwd_s");
        line["fwd_bwd_cpu_vs_lora"] = ratio("median_fwd_bwd_cpu_s");
        line["step_vs_lora"] = ratio("median_step_s");
        line["trainable_vs_lora"] = ratio("trainable");
        line["optimizer_bytes_vs_lora"] = ratio("optimizer_state_bytes");
      }
      std::cout << line.dump() << std::endl;
      if (!line.contains("error"))
        summary[m] = {{"trainable", line["trainable"]}, {"optimizer_state_mb", line["optimizer_state_bytes"].get<double>() / 1e6},
                      {"min_fwd_bwd_s", line["min_fwd_bwd_s"]}, {"median_fwd_bwd_s", line["median_fwd_bwd_s"]},
                      {"step_s", line["median_step_s"]},
                      {"fwd_bwd_vs_lora", line.value("fwd_bwd_vs_lora", 0.0)},
                      {"fwd_bwd_cpu_vs_lora", line.value("fwd_bwd_cpu_vs_lora", 0.0)},
                      {"trainable_vs_lora", line.value("trainable_vs_lora", 0.0)},
                      {"optimizer_bytes_vs_lora", line.value("optimizer_bytes_vs_lora", 0.0)}};
    }
    std::cout << json{{"bench", "peft_methods_summary"}, {"model", o.model_dir.empty() ? "llama-512x8-v32000" : o.model_dir},
                      {"device", o.device}, {"dtype", o.dtype}, {"threads", o.threads}, {"batch", o.batch},
                      {"seq", o.seq}, {"warmup", o.warmup}, {"steps", o.steps}, {"load_avg_1m", load_average()},
                      {"methods", summary}, {"failed", failed}}
                     .dump()
              << std::endl;
  } catch (const axl::Error& e) {
    std::cerr << "bench_peft_methods: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
