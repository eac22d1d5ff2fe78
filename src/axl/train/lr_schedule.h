#pragma once
// Learning-rate schedules with transformers' get_scheduler lambdas (LambdaLR: lr = base_lr *
// lambda(step)) and Axolotl's one_cycle (torch OneCycleLR, which also cycles Adam's beta1).
// Step k is the k-th optimizer step counted from 0; lr(k) is the rate that step uses.
#include <cstdint>
#include <optional>
#include <string>

#include "axl/config/config.h"

namespace axl::train {

enum class ScheduleKind {
  Constant, ConstantWithWarmup, Linear, Cosine, CosineWithMinLr, Polynomial, OneCycle
};

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::Cosine;
  double base_lr = 0.0;
  int64_t total_steps = 1;
  int64_t warmup_steps = 0;
  double num_cycles = 0.5;     // cosine
  double min_lr_rate = 0.0;    // cosine_with_min_lr / Axolotl's cosine_min_lr_ratio
  double power = 1.0;          // polynomial
  double lr_end = 1e-7;        // polynomial
  // one_cycle (torch OneCycleLR defaults; pct_start from the warmup, as Axolotl sets it)
  double div_factor = 25.0, final_div_factor = 1e4;
  double base_momentum = 0.85, max_momentum = 0.95;
  bool anneal_cos = true;
};

// HF's TrainingArguments.get_warmup_steps: warmup_steps if given, else ceil(total * ratio).
int64_t warmup_steps_for(std::optional<int64_t> warmup_steps, std::optional<double> warmup_ratio,
                         int64_t total_steps);

// Maps the Axolotl config (lr_scheduler, lr_scheduler_kwargs, cosine_min_lr_ratio, warmup)
// for a run of `total_steps` optimizer steps; throws axl::Error for unsupported schedules.
ScheduleOptions schedule_options_from(const config::Config& cfg, int64_t total_steps);

class LrSchedule {
 public:
  explicit LrSchedule(ScheduleOptions opts);  // throws axl::Error on inconsistent settings
  double lr(int64_t step) const;
  // The beta1 (momentum) a schedule sets for that step; only one_cycle has one.
  std::optional<double> beta1(int64_t step) const;
  const ScheduleOptions& options() const { return opts_; }

 private:
  double factor(int64_t step) const;  // the LambdaLR multiplier
  double one_cycle(int64_t step, double start_phase0, double end_phase0, double end_phase1) const;
  ScheduleOptions opts_;
};

}  // namespace axl::train
