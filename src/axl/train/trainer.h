#pragma once
// The training loop of `axolotl train`: a run is built from a validated Config (tokenizer,
// prepared datasets, model, LoRA or full fine-tune), then `train` steps it with the config's
// optimizer and schedule, logs (stderr line + metrics.jsonl), evaluates, and saves checkpoints
// and the final output in the Hugging Face / PEFT layouts.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "axl/config/config.h"
#include "axl/data/prepare.h"
#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/lora_config.h"
#include "axl/tokenizer/tokenizer.h"
#include "axl/train/batcher.h"
#include "axl/train/optimizer.h"
#include "axl/train/precision.h"
#include "axl/train/train_state.h"

namespace axl::train {

struct TrainerOptions {
  at::Device device = at::Device(at::kCPU);
  bool log_to_stderr = true;
  // Set (e.g. by a SIGINT handler) to stop after the current step and save a checkpoint.
  const std::atomic<bool>* stop_requested = nullptr;
};

// Everything one run holds. Not movable: the adapter points into the model's slots.
struct TrainingRun {
  config::Config cfg;
  std::string tokenizer_dir;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  data::PreparedData data;
  models::CausalLM model;
  std::optional<peft::Adapter> adapter;  // empty: full fine-tune
  at::ScalarType dtype = at::kFloat;  // the base weights' (precision.weights)
  Precision precision;               // bf16 / fp16 / float32, see precision.h
  int64_t pad_id = 0;

  TrainingRun() = default;
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;
};

// Loads the tokenizer, prepares the datasets, loads the model and attaches the adapter (any
// PEFT method, adapter_setup.h)
// or makes every weight trainable. Throws axl::Error for what the trainer does not support.
std::unique_ptr<TrainingRun> prepare_run(const config::Config& cfg, const TrainerOptions& opts = {});

struct TrainSummary {
  int64_t steps = 0, total_steps = 0;  // steps: taken by this call (fewer after a resume)
  double train_loss = 0.0;         // mean of the step losses, as HF's train_loss
  double first_loss = 0.0, last_loss = 0.0;
  std::optional<double> eval_loss_before, eval_loss_after;
  int64_t tokens = 0;
  double tokens_per_s = 0.0, wall_s = 0.0;
  bool interrupted = false, early_stopped = false;
};

// Runs the loop (from resume_from_checkpoint, or output_dir's newest checkpoint with
// auto_resume_from_checkpoints) and writes output_dir. Throws TrainingError (non-finite loss
// or gradient) and axl::Error (a checkpoint that does not fit).
TrainSummary train(TrainingRun& run, const TrainerOptions& opts = {});

// Token-mean causal-LM loss over every record of `store` (no gradients, dropout off); NaN
// when no token is trained.
double evaluate_loss(TrainingRun& run, const data::TokenizedStore& store, const TrainerOptions& opts = {});

// Writes the trained weights (adapter or full model), tokenizer files, trainer_state.json and
// config.yml into `dir`; with an optimizer (a checkpoint) also its state
// (optimizer.safetensors/.json) and the CPU RNG state (rng_state.safetensors).
void save_output(TrainingRun& run, const std::string& dir, const TrainState& state, const Optimizer* optimizer);

// Saves output_dir/checkpoint-<global_step> atomically (the folder appears only complete; a
// failed save leaves the earlier checkpoints untouched), then rotates by save_total_limit.
// Returns the folder.
std::string save_checkpoint(TrainingRun& run, const TrainState& state, const Optimizer& optimizer);

}  // namespace axl::train
