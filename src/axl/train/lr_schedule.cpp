#include "axl/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "axl/core/error.h"

namespace axl::train {

namespace {

constexpr double kPi = 3.14159265358979323846;

double warmup_factor(int64_t step, int64_t warmup) {
  return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
}

double kwarg(const config::Config& cfg, const std::string& key, double fallback) {
  auto it = cfg.lr_scheduler_kwargs.find(key);
  return it == cfg.lr_scheduler_kwargs.end() ? fallback : it->second;
}

}  // namespace

int64_t warmup_steps_for(std::optional<int64_t> warmup_steps, std::optional<double> warmup_ratio,
                         int64_t total_steps) {
  if (warmup_steps) return *warmup_steps;
  if (warmup_ratio) return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * *warmup_ratio));
  return 0;
}

ScheduleOptions schedule_options_from(const config::Config& cfg, int64_t total_steps) {
  ScheduleOptions o;
  o.base_lr = cfg.learning_rate;
  o.total_steps = total_steps;
  // Axolotl's builder: an unset warmup becomes min(int(0.03 * total), 100); a ratio becomes
  // int(ratio * total) steps; 1 becomes 2.
  int64_t warmup;
  if (cfg.warmup_steps)
    warmup = *cfg.warmup_steps;
  else if (cfg.warmup_ratio)
    warmup = std::max<int64_t>(static_cast<int64_t>(*cfg.warmup_ratio * static_cast<double>(total_steps)), 0);
  else
    warmup = std::min<int64_t>(static_cast<int64_t>(0.03 * static_cast<double>(total_steps)), 100);
  if (warmup == 1) warmup = 2;
  o.warmup_steps = warmup;
  const std::string& s = cfg.lr_scheduler;
  if (s == "constant") {
    o.kind = ScheduleKind::Constant;
  } else if (s == "constant_with_warmup") {
    o.kind = ScheduleKind::ConstantWithWarmup;
  } else if (s == "linear") {
    o.kind = ScheduleKind::Linear;
  } else if (s == "cosine" && cfg.cosine_min_lr_ratio) {
    o.kind = ScheduleKind::CosineWithMinLr;  // Axolotl's get_cosine_schedule_with_min_lr
    o.min_lr_rate = *cfg.cosine_min_lr_ratio;
  } else if (s == "cosine") {
    o.kind = ScheduleKind::Cosine;
    o.num_cycles = kwarg(cfg, "num_cycles", 0.5);
  } else if (s == "cosine_with_min_lr") {
    o.kind = ScheduleKind::CosineWithMinLr;
    o.num_cycles = kwarg(cfg, "num_cycles", 0.5);
    if (cfg.lr_scheduler_kwargs.count("min_lr"))
      o.min_lr_rate = cfg.lr_scheduler_kwargs.at("min_lr") / cfg.learning_rate;
    else
      o.min_lr_rate = kwarg(cfg, "min_lr_rate", cfg.cosine_min_lr_ratio.value_or(0.0));
  } else if (s == "polynomial") {
    o.kind = ScheduleKind::Polynomial;
    o.power = kwarg(cfg, "power", 1.0);
    o.lr_end = kwarg(cfg, "lr_end", 1e-7);
  } else if (s == "one_cycle") {
    o.kind = ScheduleKind::OneCycle;
    o.div_factor = kwarg(cfg, "div_factor", 25.0);
    o.final_div_factor = kwarg(cfg, "final_div_factor", 1e4);
  } else {
    throw axl::Error(cfg.source_file + ": lr_scheduler '" + s +
                     "' is not supported yet (constant, constant_with_warmup, linear, cosine, "
                     "cosine_with_min_lr, polynomial, one_cycle)");
  }
  return o;
}

LrSchedule::LrSchedule(ScheduleOptions opts) : opts_(opts) {
  if (opts_.total_steps < 1) throw axl::Error("lr schedule: the run has no optimizer steps");
  if (opts_.kind == ScheduleKind::Polynomial && !(opts_.base_lr > opts_.lr_end))
    throw axl::Error("lr schedule: polynomial lr_end (" + std::to_string(opts_.lr_end) +
                     ") must be smaller than the learning rate (" + std::to_string(opts_.base_lr) + ")");
  if (opts_.kind == ScheduleKind::OneCycle) {
    // torch divides by the length of the warmup phase, pct_start * total - 1 + 1 steps.
    double pct = static_cast<double>(opts_.warmup_steps) / static_cast<double>(opts_.total_steps);
    if (pct * static_cast<double>(opts_.total_steps) - 1 == 0 || opts_.total_steps == 1 ||
        opts_.warmup_steps > opts_.total_steps)
      throw axl::Error("lr schedule: one_cycle needs warmup_steps other than 1, at most the total "
                       "steps, and at least 2 steps in all");
  }
}

double LrSchedule::factor(int64_t step) const {
  const int64_t w = opts_.warmup_steps, n = opts_.total_steps;
  const auto progress = [&] {
    return static_cast<double>(step - w) / static_cast<double>(std::max<int64_t>(1, n - w));
  };
  switch (opts_.kind) {
    case ScheduleKind::Constant: return 1.0;
    case ScheduleKind::ConstantWithWarmup:
      return step < w ? static_cast<double>(step) / std::max(1.0, static_cast<double>(w)) : 1.0;
    case ScheduleKind::Linear:
      if (step < w) return warmup_factor(step, w);
      return std::max(0.0, static_cast<double>(n - step) / static_cast<double>(std::max<int64_t>(1, n - w)));
    case ScheduleKind::Cosine:
    case ScheduleKind::CosineWithMinLr: {
      if (step < w) return warmup_factor(step, w);
      double f = 0.5 * (1.0 + std::cos(kPi * opts_.num_cycles * 2.0 * progress()));
      f = f * (1 - opts_.min_lr_rate) + opts_.min_lr_rate;
      return std::max(0.0, f);
    }
    case ScheduleKind::Polynomial: {
      if (step < w) return warmup_factor(step, w);
      const double lr_init = opts_.base_lr;
      if (step > n) return opts_.lr_end / lr_init;
      const double range = lr_init - opts_.lr_end;
      const double pct_remaining = 1 - static_cast<double>(step - w) / static_cast<double>(n - w);
      return (range * std::pow(pct_remaining, opts_.power) + opts_.lr_end) / lr_init;
    }
    case ScheduleKind::OneCycle: break;
  }
  return 1.0;
}

// torch OneCycleLR (two phases): anneal start -> end over each phase; phase 0 ends at step
// pct_start * total - 1, phase 1 at total - 1.
double LrSchedule::one_cycle(int64_t step, double start_phase0, double end_phase0,
                             double end_phase1) const {
  const double total = static_cast<double>(opts_.total_steps);
  const double pct_start = static_cast<double>(opts_.warmup_steps) / total;
  const double phase0_end = pct_start * total - 1;
  const double phase1_end = total - 1;
  const double s = static_cast<double>(step);
  double start, end, pct;
  if (s <= phase0_end) {
    start = start_phase0, end = end_phase0, pct = s / phase0_end;
  } else {
    start = end_phase0, end = end_phase1, pct = (s - phase0_end) / (phase1_end - phase0_end);
  }
  if (opts_.anneal_cos) return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1);
  return (end - start) * pct + start;
}

double LrSchedule::lr(int64_t step) const {
  if (opts_.kind == ScheduleKind::OneCycle) {
    const double initial = opts_.base_lr / opts_.div_factor;
    return one_cycle(step, initial, opts_.base_lr, initial / opts_.final_div_factor);
  }
  return opts_.base_lr * factor(step);
}

std::optional<double> LrSchedule::beta1(int64_t step) const {
  if (opts_.kind != ScheduleKind::OneCycle) return std::nullopt;
  return one_cycle(step, opts_.max_momentum, opts_.base_momentum, opts_.max_momentum);
}

}  // namespace axl::train
