#pragma once
// The trainer's progress, saved as Hugging Face's trainer_state.json (same field names, so
// tools that read HF checkpoints read ours), plus what an exact resume also needs: the
// micro-step inside the accumulation and the early-stopping counter (kept where HF's
// EarlyStoppingCallback keeps it, under stateful_callbacks).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/data/data_cursor.h"
#include "axl/data/stream_position.h"

namespace axl::train {

struct TrainState {
  int64_t global_step = 0;  // optimizer steps done
  double epoch = 0.0;       // fractional, as HF logs it
  int64_t micro_step = 0;   // micro-batches done inside the current step
  // Scheduler steps taken: HF does not advance the schedule when fp16 overflow skips a step.
  int64_t scheduler_steps = 0;
  // fp16's dynamic loss scale and its count of good steps in a row; empty without fp16.
  std::optional<double> loss_scale;
  int64_t loss_scale_growth_tracker = 0;
  int64_t num_input_tokens_seen = 0;
  int64_t max_steps = 0;
  double num_train_epochs = 0.0;
  int64_t logging_steps = 0, eval_steps = 0, save_steps = 0, train_batch_size = 0;
  std::optional<double> best_metric;  // best eval loss
  std::optional<int64_t> best_global_step;
  std::optional<std::string> best_model_checkpoint;
  int64_t early_stopping_patience_counter = 0;
  // The next micro-batch to train on (saved under stateful_callbacks.AxolotlCppResume); unset in
  // checkpoints written before it was kept, which then resume by the step count.
  std::optional<data::DataPosition> data_position;
  // Streamed datasets: where the next row starts (train/stream_batches.h), same place.
  std::optional<data::SavedStreamPosition> stream_position;
  std::vector<nlohmann::json> log_history;  // {"loss":..,"learning_rate":..,"step":..,...}

  // Records an eval loss: updates best_* (lower is better) and the patience counter.
  // Returns true when it is a new best.
  bool record_eval_loss(double eval_loss, const std::string& checkpoint = "");

  nlohmann::json to_json() const;
  static TrainState from_json(const nlohmann::json& j, const std::string& where);
  void save(const std::string& path) const;              // atomic
  static TrainState load(const std::string& path);       // throws axl::Error naming the file
};

}  // namespace axl::train
