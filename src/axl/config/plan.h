#pragma once
// What `axolotl validate` reports: the resolved config as YAML and the plan (model, parameter
// counts, attention path, batch and schedule). No model is built and no libtorch is needed.
#include <cstdint>
#include <optional>
#include <string>

#include "axl/config/config.h"
#include "axl/config/parameter_count.h"
#include "axl/models/model_config.h"

namespace axl::config {

// Filled by the data module from a prepared dataset (or `--data`): the hook for the
// samples / tokens / steps part of the plan.
struct DataSummary {
  int64_t train_samples = 0, eval_samples = 0;
  int64_t tokens = 0, trainable_tokens = 0;
  int64_t dropped = 0, truncated = 0;
  // sample_packing: packed rows per epoch and their fill (data/sample_packing.h); the steps
  // then count rows, not samples.
  int64_t packed_rows = 0;
  double packing_efficiency = 0.0;
};

// Steps as Axolotl's trainer derives them once the number of samples is known.
struct Schedule {
  int64_t total_steps = 0;
  int64_t warmup_steps = 0;   // warmup_steps, warmup_ratio * total, or min(3% of total, 100)
  int64_t logging_steps = 0;  // logging_steps, or max(min(0.5% of total, 10), 1)
};
Schedule derive_schedule(const Config& cfg, int64_t train_samples);

struct Plan {
  models::ModelConfig model;
  std::string architecture;  // config.json "architectures"[0] when present
  ParameterCount params;
  std::optional<DataSummary> data;
};

// Reads config.json from cfg.model_config_dir and counts parameters. `where_lora` locates
// lora_target_modules for its errors.
Plan make_plan(const Config& cfg, const std::string& where_lora);

std::string resolved_config_yaml(const Config& cfg);
std::string format_plan(const Config& cfg, const Plan& plan);

}  // namespace axl::config
