#include "axl/train/trainer.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "axl/config/plan.h"
#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/data/chat_template_strategy.h"
#include "axl/data/config_tokens.h"
#include "axl/data/data_cursor.h"
#include "axl/data/prepared_cache.h"
#include "axl/models/loader.h"
#include "axl/models/resize_embeddings.h"
#include "axl/peft/adapter_io.h"
#include "axl/peft/lora.h"
#include "axl/peft/merged_model.h"
#include "axl/quant/bnb_checkpoint.h"
#include "axl/quant/quantize_config.h"
#include "axl/train/checkpoint_dirs.h"
#include "axl/train/fused_ops_setting.h"
#include "axl/train/lr_schedule.h"
#include "axl/train/metrics_log.h"
#include "axl/train/param_groups.h"
#include "axl/train/progress.h"
#include "axl/train/stream_batches.h"
#include "axl/train/token_loss.h"
#include "axl/train/adapter_setup.h"
#include "axl/train/train_step.h"

namespace axl::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string format_duration(double s) {
  const auto total = static_cast<int64_t>(std::max(0.0, s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(total / 3600), static_cast<int>(total / 60 % 60),
                static_cast<int>(total % 60));
  return buf;
}

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

// HF's rule for *_steps settings: < 1 is a fraction of the total steps (rounded up).
int64_t steps_setting(std::optional<double> value, int64_t total) {
  if (!value || *value <= 0) return 0;
  if (*value < 1) return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(*value * static_cast<double>(total))));
  return static_cast<int64_t>(*value);
}

// Every `per_epoch` evaluations/saves an epoch: Axolotl's max(1, total / epochs / per_epoch).
int64_t per_epoch_setting(std::optional<int64_t> per_epoch, int64_t steps_per_epoch) {
  if (!per_epoch || *per_epoch <= 0) return 0;
  return std::max<int64_t>(1, steps_per_epoch / *per_epoch);
}

std::string read_file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(p.string() + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Copied through write_file_atomic, so an interrupted save never leaves a half-written file.
void copy_tokenizer_files(const std::string& from, const std::string& to) {
  for (const char* f : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                        "added_tokens.json", "vocab.json", "merges.txt", "chat_template.jinja"}) {
    const fs::path src = fs::path(from) / f;
    if (fs::exists(src)) write_file_atomic((fs::path(to) / f).string(), read_file_bytes(src));
  }
}

// A config that sets chat_template (or chat_template_jinja) trained with that template, so the
// saved tokenizer carries it, as Axolotl does: transformers 5 saves it as chat_template.jinja
// and drops the key from tokenizer_config.json (which our loader and HF's read in that order).
void save_chat_template(const TrainingRun& run, const std::string& dir) {
  if (!run.cfg.chat_template && !run.cfg.chat_template_jinja) return;
  const std::string tmpl = data::chat_template_source(config::DatasetConfig{}, run.cfg, *run.tokenizer);
  write_file_atomic(dir + "/chat_template.jinja", tmpl);
  const std::string tc_path = dir + "/tokenizer_config.json";
  if (fs::exists(tc_path)) {
    nlohmann::json tc = nlohmann::json::parse(read_file_bytes(tc_path), nullptr, false);
    if (tc.is_object() && tc.contains("chat_template")) {
      tc.erase("chat_template");
      write_file_atomic(tc_path, tc.dump(2) + "\n");
    }
  }
}

// Puts a checkpoint's weights, optimizer state, progress and RNG back, so the run continues
// exactly where the checkpoint was written.
void restore_checkpoint(TrainingRun& run, const std::string& dir, Optimizer& optimizer, TrainState& state) {
  if (!fs::exists(dir + "/trainer_state.json"))
    throw Error(dir + ": not a checkpoint folder (no trainer_state.json); resume_from_checkpoint names one "
                "output_dir/checkpoint-N");
  // The hooks' state first: it can change the saved layout (AdaLoRA's rank masks decide which
  // rows adapter_model.safetensors holds) and brings back what the saved tensors leave out.
  if (run.adapter && run.adapter->hooks && fs::exists(dir + "/adapter_training_state.safetensors"))
    run.adapter->hooks->load_training_state(load_safetensors(dir + "/adapter_training_state.safetensors"));
  const std::string weights = dir + (run.adapter ? "/adapter_model.safetensors" : "/model.safetensors");
  const auto saved = load_safetensors(weights);
  std::vector<std::pair<std::string, at::Tensor>> targets;
  if (run.adapter) {
    for (auto& kv : run.adapter->state_dict()) targets.emplace_back(kv.first, kv.second);
  } else {
    targets = run.model.named_tensors();
  }
  at::NoGradGuard no_grad;
  for (auto& [name, t] : targets) {
    auto it = saved.find(name);
    if (it == saved.end()) throw Error(weights + ": no tensor '" + name + "' (a checkpoint of another run?)");
    at::Tensor src = it->second;
    if (src.sizes() != t.sizes() && src.dim() == 2 && src.t().sizes() == t.sizes()) src = src.t();  // Conv1D
    if (src.sizes() != t.sizes()) throw Error(weights + ": tensor '" + name + "' has another shape than the model's");
    t.copy_(src);
  }
  optimizer.load(dir + "/optimizer");
  state = TrainState::load(dir + "/trainer_state.json");
  if (fs::exists(dir + "/rng_state.safetensors")) {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(load_safetensors(dir + "/rng_state.safetensors").at("cpu"));
  }
}

}  // namespace

std::unique_ptr<TrainingRun> prepare_run(const config::Config& cfg, const TrainerOptions& opts) {
  if (cfg.learning_rate <= 0) throw Error(cfg.source_file + ": learning_rate must be set (> 0) to train");

  auto run = std::make_unique<TrainingRun>();
  run->cfg = cfg;
  run->tokenizer_dir = data::tokenizer_dir_for(cfg);
  run->tokenizer = data::load_config_tokenizer(cfg);  // with special_tokens / tokens added
  // The prepared-dataset cache: dataset_prepared_path is read and written; without it a cache
  // that `axolotl preprocess` left in last_run_prepared is reused, but none is written.
  data::CacheOptions cache;
  cache.write = cfg.dataset_prepared_path.has_value();
  if (opts.log_to_stderr) cache.log = [](const std::string& line) { std::cerr << line << "\n"; };
  // Streamed datasets are read while training (stream_batches.h); nothing is prepared ahead.
  if (!data::is_streaming(cfg)) {
    run->data = data::prepare_datasets_cached(cfg, *run->tokenizer, {}, cache);
    if (run->data.train.size() == 0) throw Error(cfg.source_file + ": no training samples left after preparing the datasets");
  }
  const auto& special = run->tokenizer->special_tokens();
  run->pad_id = special.pad_id ? *special.pad_id : special.eos_id ? *special.eos_id : 0;

  at::manual_seed(static_cast<uint64_t>(cfg.seed));  // LoRA init and dropout
  models::LoadOptions lo;
  lo.device = opts.device;
  run->precision = precision_for(cfg, cfg.adapter.empty());
  run->dtype = run->precision.weights;
  lo.dtype = run->dtype;
  if (opts.device.is_cuda()) set_tf32(cfg.tf32);
  lo.writable = cfg.adapter.empty();  // full fine-tuning updates the weights in place
  // load_in_4bit / load_in_8bit (or a bitsandbytes checkpoint): frozen quantized base weights.
  const std::optional<quant::QuantizeSpec> quant_spec = quant::spec_for_config(cfg, run->dtype);
  // LoftQ needs the full-precision weights: the base is quantized from its Q after attaching.
  const bool loftq_then_quantize = quant_spec && !cfg.adapter.empty() && !cfg.lora_model_dir &&
                                   adapter_config_json(cfg).value("init_lora_weights", nlohmann::json()) == "loftq";
  run->model = quant::load_maybe_quantized(cfg.model.dir, lo, quant_spec && !loftq_then_quantize ? &*quant_spec : nullptr);
  // New tokens need embedding (and head) rows, before adapters copy them (Axolotl's order).
  models::resize_token_embeddings(run->model, static_cast<int64_t>(run->tokenizer->vocab_size()),
                                  {0, false, true, static_cast<uint64_t>(cfg.seed)});
  if (!cfg.adapter.empty()) {
    // A loaded adapter trains on (its trainable tensors keep requires_grad from attaching).
    if (cfg.lora_model_dir) run->adapter.emplace(peft::load_adapter(run->model, *cfg.lora_model_dir));
    else run->adapter.emplace(attach_training_adapter(run->model, cfg, static_cast<uint64_t>(cfg.seed)));
    run->adapter->config->set_base_model(cfg.base_model);  // saved as belonging to this config's base
    if (loftq_then_quantize) quant::quantize_linear_slots(run->model, *quant_spec);
    if (run->precision.loss_scaling) keep_adapter_float32(*run->adapter);
  }
  return run;
}

double evaluate_loss(TrainingRun& run, const data::TokenizedStore& store, const TrainerOptions& opts) {
  BatcherOptions bo;
  bo.micro_batch_size = std::max<int64_t>(1, run.cfg.eval_batch_size);
  bo.pad_id = run.pad_id;
  bo.shuffle = false;
  bo.device = opts.device;
  bo.sample_packing = run.cfg.eval_sample_packing;
  bo.sequence_len = run.cfg.sequence_len;
  bo.pad_to_sequence_len = run.cfg.pad_to_sequence_len;
  Batcher batcher(store, bo);
  if (run.adapter) run.adapter->set_training(false);
  at::NoGradGuard no_grad;
  AutocastGuard autocast(opts.device.type(), run.precision.autocast);
  double loss_sum = 0.0;
  int64_t tokens = 0;
  for (size_t i = 0; i < batcher.micro_batches_per_epoch(); ++i) {
    MicroBatch mb = batcher.micro_batch(0, i);
    models::ForwardInput in;
    in.input_ids = mb.input_ids;
    if (!mb.cu_seqlens.defined()) in.attention_mask = mb.attention_mask;  // packed: cu_seqlens
    in.position_ids = mb.position_ids;
    in.cu_seqlens = mb.cu_seqlens;
    // The loss training uses: a plain head never materialises all logits, in eval either.
    loss_sum += summed_causal_lm_loss_from_hidden(run.model, run.model.hidden(in), mb.labels).to(at::kDouble).item<double>();
    tokens += trained_token_count(mb.labels);
  }
  if (run.adapter) run.adapter->set_training(true);
  return tokens > 0 ? loss_sum / static_cast<double>(tokens) : std::nan("");
}

void save_output(TrainingRun& run, const std::string& dir, const TrainState& state, const Optimizer* optimizer) {
  fs::create_directories(dir);
  if (run.adapter) {
    peft::save_adapter(*run.adapter, dir);
  } else {
    peft::save_merged_model(run.model, run.cfg.model.dir, dir);
  }
  copy_tokenizer_files(run.tokenizer_dir, dir);
  if (!run.tokenizer->additions().empty()) tokenizer::save_tokenizer(*run.tokenizer, dir);  // the added tokens
  save_chat_template(run, dir);
  state.save(dir + "/trainer_state.json");
  write_file_atomic(dir + "/config.yml", config::resolved_config_yaml(run.cfg));
  if (optimizer) {  // a checkpoint: what an exact resume needs beyond the weights
    optimizer->save(dir + "/optimizer");
    if (run.adapter && run.adapter->hooks) {
      auto hook_state = run.adapter->hooks->training_state();
      if (!hook_state.empty()) save_safetensors(dir + "/adapter_training_state.safetensors", hook_state);
    }
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    at::Tensor rng;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    save_safetensors(dir + "/rng_state.safetensors", {{"cpu", rng}});
  }
}

std::string save_checkpoint(TrainingRun& run, const TrainState& state, const Optimizer& optimizer) {
  const std::string final_dir = run.cfg.output_dir + "/" + checkpoint_name(state.global_step);
  const std::string tmp = temporary_folder_for(final_dir);
  try {
    save_output(run, tmp, state, &optimizer);
    publish_folder(tmp, final_dir);
  } catch (...) {
    try {
      remove_folder(tmp);  // a failed save leaves the earlier checkpoints as they were
    } catch (const Error&) {
    }
    throw;
  }
  if (run.cfg.save_total_limit) rotate_checkpoints(run.cfg.output_dir, *run.cfg.save_total_limit);
  return final_dir;
}

TrainSummary train(TrainingRun& run, const TrainerOptions& opts) {
  const config::Config& cfg = run.cfg;
  const auto t0 = Clock::now();
  BatcherOptions bo;
  bo.micro_batch_size = cfg.micro_batch_size;
  bo.pad_id = run.pad_id;
  bo.seed = static_cast<uint64_t>(cfg.seed);
  bo.device = opts.device;
  bo.sample_packing = cfg.sample_packing;
  bo.sequence_len = cfg.sequence_len;
  bo.pad_to_sequence_len = cfg.pad_to_sequence_len;
  bo.group_by_length = cfg.group_by_length;
  bo.length_group_batch = cfg.micro_batch_size * cfg.gradient_accumulation_steps;
  Batcher batcher(run.data.train, bo);
  // Streamed datasets have no epochs: max_steps (required) makes the schedule, and the whole
  // run counts as one epoch for the epoch HF logs.
  const bool streaming = data::is_streaming(cfg);

  // Packed, a micro-batch is one row: derive_schedule's samples / micro_batch_size is rows.
  const int64_t schedule_samples = streaming ? cfg.batch_size * cfg.max_steps.value_or(1)
                                   : batcher.packed()
                                       ? static_cast<int64_t>(batcher.micro_batches_per_epoch()) * cfg.micro_batch_size
                                       : static_cast<int64_t>(run.data.train.size());
  const config::Schedule sched = config::derive_schedule(cfg, schedule_samples);
  const int64_t total = sched.total_steps;
  const int64_t gas = std::max<int64_t>(1, cfg.gradient_accumulation_steps);
  const int64_t micro_per_epoch = streaming ? total * gas : static_cast<int64_t>(batcher.micro_batches_per_epoch());
  const int64_t steps_per_epoch = (micro_per_epoch + gas - 1) / gas;
  // eval_strategy / save_strategy "no" turn them off, "epoch" makes them once per epoch.
  const bool do_eval = run.data.validation.size() > 0 && cfg.eval_strategy.value_or("") != "no";
  int64_t eval_every = cfg.eval_strategy.value_or("") == "epoch" ? steps_per_epoch : steps_setting(cfg.eval_steps, total);
  if (!eval_every) eval_every = per_epoch_setting(cfg.evals_per_epoch, steps_per_epoch);
  if (!eval_every) eval_every = steps_per_epoch;  // once per epoch
  const std::string save_strategy = cfg.save_strategy.value_or("");
  int64_t save_every = save_strategy == "epoch" ? steps_per_epoch : steps_setting(cfg.save_steps, total);
  if (!save_every) save_every = per_epoch_setting(cfg.saves_per_epoch, steps_per_epoch);
  if (save_strategy == "no") save_every = 0;
  const int64_t log_every = std::max<int64_t>(1, sched.logging_steps);

  std::vector<NamedParam> params;
  if (run.adapter) {
    for (auto& [name, t] : run.adapter->trainable()) params.push_back({name, t, true});
    params = with_decay_flags(std::move(params));
    run.adapter->set_training(true);
  } else {
    params = full_finetune_parameters(run.model);
  }
  Optimizer optimizer(params, optimizer_options_from(cfg));
  LrSchedule schedule(schedule_options_from(cfg, total));
  StepOptions so;
  so.max_grad_norm = cfg.max_grad_norm;
  so.attention = cfg.attention_path == "eager" ? kernels::AttentionImpl::Eager : kernels::AttentionImpl::Auto;
  so.autocast = run.precision.autocast;
  so.gradient_checkpointing = cfg.gradient_checkpointing;
  so.offload_checkpoints = cfg.gradient_checkpointing_offload;
  so.fused = fused_ops_for(cfg);
  if (run.adapter && run.adapter->hooks) {
    peft::AdapterHooks* hooks = run.adapter->hooks.get();
    hooks->on_train_begin(total);
    so.regularization = [hooks] { return hooks->regularization_loss(); };
    so.after_optimizer_step = [hooks](int64_t step) { hooks->after_optimizer_step(step); };
  }
  std::optional<LossScaler> scaler;  // fp16
  if (run.precision.loss_scaling) so.scaler = &scaler.emplace(LossScalerOptions{}, opts.device);

  TrainState state;
  state.max_steps = total;
  state.num_train_epochs = cfg.max_steps ? std::ceil(static_cast<double>(total) / steps_per_epoch) : cfg.num_epochs;
  state.logging_steps = log_every;
  state.eval_steps = do_eval ? eval_every : 0;
  state.save_steps = save_every;
  state.train_batch_size = cfg.micro_batch_size;

  std::string resume_dir = cfg.resume_from_checkpoint.value_or("");
  if (resume_dir.empty() && cfg.auto_resume_from_checkpoints) resume_dir = latest_checkpoint(cfg.output_dir);
  if (!resume_dir.empty()) {
    restore_checkpoint(run, resume_dir, optimizer, state);
    if (scaler && state.loss_scale) scaler->set_state(*state.loss_scale, state.loss_scale_growth_tracker);
    if (state.max_steps != total)
      throw Error(resume_dir + ": the checkpoint is of a " + std::to_string(state.max_steps) + "-step run, this config makes " +
                  std::to_string(total) + " steps");
  }

  fs::create_directories(cfg.output_dir);
  const int leftovers = remove_unfinished_checkpoints(cfg.output_dir);
  MetricsLog metrics(cfg.output_dir + "/metrics.jsonl", !resume_dir.empty());
  // On a terminal a progress bar under the log lines; elsewhere only the log lines.
  ProgressBar progress(std::cerr, opts.log_to_stderr && stderr_is_terminal());
  auto say = [&](const std::string& line) {
    if (opts.log_to_stderr) progress.print(line);
  };
  char buf[512];
  std::snprintf(buf, sizeof buf, "train: %zu samples (%zu eval), %lld steps of %lld x %lld micro-batches, %lld trainable values",
                run.data.train.size(), run.data.validation.size(), static_cast<long long>(total),
                static_cast<long long>(gas), static_cast<long long>(cfg.micro_batch_size),
                static_cast<long long>([&] { int64_t n = 0; for (auto& p : params) n += p.tensor.numel(); return n; }()));
  say(buf);
  std::unique_ptr<StreamBatches> stream;  // opened at the checkpoint's stream position
  if (streaming) {
    stream = std::make_unique<StreamBatches>(cfg, *run.tokenizer, opts.device, state.stream_position,
                                             resume_dir + "/trainer_state.json");
    say(stream->describe());
  }
  if (batcher.packed() && !streaming) {
    const data::PackingPlan& plan = batcher.packing_plan();
    std::snprintf(buf, sizeof buf, "sample packing: %zu rows of %zu tokens per epoch, efficiency %.4f%s",
                  plan.bins.size(), plan.capacity, plan.efficiency(),
                  plan.skipped_samples ? (" (" + std::to_string(plan.skipped_samples) + " samples without trained labels left out)").c_str() : "");
    say(buf);
  }
  if (leftovers) say("removed " + std::to_string(leftovers) + " unfinished checkpoint folder(s) of an interrupted save");
  if (!resume_dir.empty()) say("resumed from " + resume_dir + " at step " + std::to_string(state.global_step));

  TrainSummary summary;
  summary.total_steps = total;
  auto run_eval = [&](int64_t step) {
    const auto eval_t0 = Clock::now();
    const double loss = evaluate_loss(run, run.data.validation, opts);
    const double eval_s = seconds_since(eval_t0);
    metrics.write(nlohmann::json{{"step", step}, {"epoch", state.epoch}, {"eval_loss", loss},
                                 {"eval_perplexity", std::exp(loss)}});
    // HF's eval entry: the loss and its speed metrics (rounded to 4 and 3 digits as HF does).
    const double eval_batches = std::ceil(static_cast<double>(run.data.validation.size()) /
                                          static_cast<double>(std::max<int64_t>(1, cfg.eval_batch_size)));
    state.log_history.push_back(nlohmann::json{
        {"eval_loss", loss}, {"step", step}, {"epoch", state.epoch},
        {"eval_runtime", std::round(eval_s * 1e4) / 1e4},
        {"eval_samples_per_second",
         eval_s > 0 ? std::round(static_cast<double>(run.data.validation.size()) / eval_s * 1e3) / 1e3 : 0.0},
        {"eval_steps_per_second", eval_s > 0 ? std::round(eval_batches / eval_s * 1e3) / 1e3 : 0.0}});
    std::snprintf(buf, sizeof buf, "eval  %lld/%lld | eval_loss %.4f | perplexity %.3f", static_cast<long long>(step),
                  static_cast<long long>(total), loss, std::exp(loss));
    say(buf);
    return loss;
  };
  if (do_eval && resume_dir.empty()) summary.eval_loss_before = run_eval(0);

  // The data cursor: from the checkpoint's saved position (checked against this run's data),
  // else from the step count (every epoch has the same steps, its last one maybe shorter).
  data::DataCursor cursor(static_cast<uint64_t>(micro_per_epoch), gas, static_cast<uint64_t>(cfg.seed),
                          run.data.train.size());
  if (state.data_position) cursor.restore(*state.data_position, resume_dir + "/trainer_state.json");
  else cursor.seek_to_step(state.global_step);
  double window_loss = 0.0, loss_sum = 0.0;
  int64_t window_steps = 0, window_tokens = 0;
  auto window_t0 = Clock::now();
  const auto loop_t0 = Clock::now();
  std::optional<double> last_eval;
  while (state.global_step < total) {
    std::vector<MicroBatch> mbs;
    if (stream) {
      mbs = stream->next_step(gas);
      state.stream_position = stream->position();  // saved with a checkpoint after this step
    } else {
      for (const auto& [epoch, index] : cursor.next_step()) mbs.push_back(batcher.micro_batch(epoch, index));
      state.data_position = cursor.position();  // saved with a checkpoint after this step
    }
    // HF logs the epoch reached after the step.
    state.epoch = static_cast<double>(state.global_step + 1) / static_cast<double>(steps_per_epoch);
    const StepResult r = train_step(run.model, optimizer, &schedule, state, mbs, so);
    const int64_t step = state.global_step;
    if (r.skipped) {
      std::snprintf(buf, sizeof buf, "step  %lld/%lld skipped: fp16 gradients overflowed, loss scale now %g",
                    static_cast<long long>(step), static_cast<long long>(total), scaler->scale());
      say(buf);
    }
    // train_step records every step; HF's log_history holds one entry per logging window.
    if (!state.log_history.empty() && state.log_history.back().contains("loss") &&
        state.log_history.back().value("step", int64_t{-1}) == step)
      state.log_history.pop_back();
    if (summary.steps++ == 0) summary.first_loss = r.loss;
    summary.last_loss = r.loss;
    loss_sum += r.loss;
    window_loss += r.loss;
    ++window_steps;
    window_tokens += r.input_tokens;
    summary.tokens += r.input_tokens;

    if (step % log_every == 0 || step == total) {
      const double dt = seconds_since(window_t0);
      StepRecord rec;
      rec.step = step;
      rec.epoch = state.epoch;
      rec.loss = window_loss / static_cast<double>(window_steps);
      rec.learning_rate = r.learning_rate;
      rec.grad_norm = r.grad_norm;
      rec.tokens = window_tokens;
      rec.tokens_per_s = dt > 0 ? static_cast<double>(window_tokens) / dt : 0.0;
      rec.memory_bytes = peak_rss_bytes();
      metrics.write(rec);
      nlohmann::json entry = {{"loss", rec.loss}, {"learning_rate", rec.learning_rate}, {"step", step}, {"epoch", state.epoch}};
      entry["grad_norm"] = std::isfinite(r.grad_norm) ? nlohmann::json(r.grad_norm) : nlohmann::json(nullptr);
      state.log_history.push_back(entry);
      const double elapsed = seconds_since(loop_t0);
      const double eta = elapsed / static_cast<double>(summary.steps) * static_cast<double>(total - step);
      std::snprintf(buf, sizeof buf, "step  %lld/%lld | loss %.4f | lr %.3e | grad_norm %.4f | %.0f tok/s | ETA %s",
                    static_cast<long long>(step), static_cast<long long>(total), rec.loss, r.learning_rate,
                    r.grad_norm, rec.tokens_per_s, format_duration(eta).c_str());
      say(buf);
      window_loss = 0.0;
      window_steps = 0;
      window_tokens = 0;
      window_t0 = Clock::now();
    }
    if (progress.enabled()) {
      ProgressInfo pi;
      pi.step = step;
      pi.total = total;
      pi.loss = r.loss;
      pi.learning_rate = r.learning_rate;
      pi.elapsed_s = seconds_since(loop_t0);
      pi.tokens_per_s = pi.elapsed_s > 0 ? static_cast<double>(summary.tokens) / pi.elapsed_s : 0.0;
      pi.eta_s = pi.elapsed_s / static_cast<double>(summary.steps) * static_cast<double>(total - step);
      progress.update(pi);
    }

    bool stop = false;
    if (do_eval && (step % eval_every == 0 || step == total)) {
      last_eval = run_eval(step);
      state.record_eval_loss(*last_eval);
      if (cfg.early_stopping_patience && *cfg.early_stopping_patience > 0 &&
          state.early_stopping_patience_counter >= *cfg.early_stopping_patience) {
        say("early stopping: eval loss has not improved for " + std::to_string(*cfg.early_stopping_patience) + " evaluations");
        summary.early_stopped = stop = true;
      }
    }
    const bool interrupted = opts.stop_requested && opts.stop_requested->load();
    if (interrupted) {
      say("interrupted: saving a checkpoint after step " + std::to_string(step));
      summary.interrupted = stop = true;
    }
    if ((save_every && step % save_every == 0 && step != total) || (interrupted && step != total)) {
      save_checkpoint(run, state, optimizer);
    }
    if (stop) break;
  }
  summary.train_loss = summary.steps > 0 ? loss_sum / static_cast<double>(summary.steps) : 0.0;
  summary.eval_loss_after = last_eval;
  summary.wall_s = seconds_since(t0);
  const double loop_s = seconds_since(loop_t0);
  summary.tokens_per_s = loop_s > 0 ? static_cast<double>(summary.tokens) / loop_s : 0.0;
  // HF's closing entry (speeds over the steps this call took; total_flos is not counted).
  const double samples = static_cast<double>(summary.steps * gas * cfg.micro_batch_size);
  state.log_history.push_back(nlohmann::json{
      {"train_loss", summary.train_loss}, {"step", state.global_step}, {"epoch", state.epoch},
      {"train_runtime", std::round(loop_s * 1e4) / 1e4}, {"total_flos", 0.0},
      {"train_samples_per_second", loop_s > 0 ? std::round(samples / loop_s * 1e3) / 1e3 : 0.0},
      {"train_steps_per_second",
       loop_s > 0 ? std::round(static_cast<double>(summary.steps) / loop_s * 1e3) / 1e3 : 0.0}});
  progress.finish();
  save_output(run, cfg.output_dir, state, nullptr);

  std::string line = std::string(summary.interrupted ? "stopped: " : summary.early_stopped ? "early stop: " : "done: ") +
                     std::to_string(state.global_step) + "/" + std::to_string(total) + " steps";
  std::snprintf(buf, sizeof buf, " | train_loss %.4f", summary.train_loss);
  line += buf;
  if (summary.eval_loss_before && summary.eval_loss_after) {
    std::snprintf(buf, sizeof buf, " | eval_loss %.4f -> %.4f", *summary.eval_loss_before, *summary.eval_loss_after);
    line += buf;
  }
  std::snprintf(buf, sizeof buf, " | %.0f tok/s | wall %s | peak RSS %.1f MiB | saved to %s", summary.tokens_per_s,
                format_duration(summary.wall_s).c_str(), static_cast<double>(peak_rss_bytes()) / (1 << 20),
                cfg.output_dir.c_str());
  say(line + buf);
  return summary;
}

}  // namespace axl::train
