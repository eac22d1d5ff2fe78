// LR schedules against transformers' get_scheduler / Axolotl / torch OneCycleLR, every step.
#include <gtest/gtest.h>

#include <cmath>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/train/lr_schedule.h"
#include "tests/train/peer_refs.h"

namespace {

using axl::train::LrSchedule;
using axl::train::ScheduleKind;
using axl::train::ScheduleOptions;

double rel_err(double a, double b) {
  if (a == b) return 0.0;
  return std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

TEST(LrSchedule, WarmupStepsFromRatioRoundUpAsHf) {
  EXPECT_EQ(axl::train::warmup_steps_for(std::nullopt, 0.1, 37), 4);
  EXPECT_EQ(axl::train::warmup_steps_for(5, 0.5, 37), 5);
  EXPECT_EQ(axl::train::warmup_steps_for(std::nullopt, std::nullopt, 37), 0);
}

TEST(LrSchedule, CosineHandValues) {
  ScheduleOptions o;
  o.kind = ScheduleKind::Cosine;
  o.base_lr = 1.0;
  o.total_steps = 10;
  o.warmup_steps = 2;
  LrSchedule s(o);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(1), 0.5);
  EXPECT_DOUBLE_EQ(s.lr(2), 1.0);
  EXPECT_NEAR(s.lr(6), 0.5, 1e-15);  // half way through the decay
  EXPECT_NEAR(s.lr(10), 0.0, 1e-15);
  EXPECT_FALSE(s.beta1(3).has_value());
}

TEST(LrSchedule, ConfigMapping) {
  axl::config::Config cfg;
  cfg.source_file = "cfg.yml";
  cfg.learning_rate = 2e-4;
  cfg.lr_scheduler = "cosine";
  cfg.cosine_min_lr_ratio = 0.1;
  auto o = axl::train::schedule_options_from(cfg, 1000);
  EXPECT_EQ(o.kind, ScheduleKind::CosineWithMinLr);
  EXPECT_DOUBLE_EQ(o.min_lr_rate, 0.1);
  EXPECT_EQ(o.warmup_steps, 30);  // Axolotl's default min(int(0.03 * total), 100)
  cfg.warmup_steps = 1;
  EXPECT_EQ(axl::train::schedule_options_from(cfg, 1000).warmup_steps, 2);  // 1 becomes 2
  cfg.lr_scheduler = "rex";
  EXPECT_THROW(axl::train::schedule_options_from(cfg, 1000), axl::Error);
}

TEST(LrSchedule, RejectsImpossibleSettings) {
  ScheduleOptions o;
  o.kind = ScheduleKind::Polynomial;
  o.base_lr = 1e-7;
  o.lr_end = 1e-6;
  EXPECT_THROW(LrSchedule{o}, axl::Error);
  o.kind = ScheduleKind::OneCycle;
  o.base_lr = 1e-3;
  o.total_steps = 10;
  o.warmup_steps = 1;  // torch divides by zero there
  EXPECT_THROW(LrSchedule{o}, axl::Error);
}

TEST(LrSchedule, MatchesTransformersEveryStep) {
  AXL_REQUIRE_TRAIN_REF(path, "schedules.json");
  auto j = axl::read_json_file(path);
  int cases = 0;
  double worst = 0.0;
  for (const auto& c : j.at("cases")) {
    const std::string name = c.at("schedule");
    SCOPED_TRACE(name + " total " + std::to_string(c.at("total").get<int>()) + " warmup " +
                 std::to_string(c.at("warmup").get<int>()));
    ScheduleOptions o;
    o.base_lr = c.at("base_lr");
    o.total_steps = c.at("total");
    const auto& given = c.at("warmup_given");
    std::optional<int64_t> ws;
    std::optional<double> wr;
    if (given.contains("warmup_steps")) ws = given["warmup_steps"].get<int64_t>();
    if (given.contains("warmup_ratio")) wr = given["warmup_ratio"].get<double>();
    o.warmup_steps = axl::train::warmup_steps_for(ws, wr, o.total_steps);
    ASSERT_EQ(o.warmup_steps, c.at("warmup").get<int64_t>());
    const auto& kw = c.at("kwargs");
    if (name == "constant") o.kind = ScheduleKind::Constant;
    else if (name == "constant_with_warmup") o.kind = ScheduleKind::ConstantWithWarmup;
    else if (name == "linear") o.kind = ScheduleKind::Linear;
    else if (name == "cosine") o.kind = ScheduleKind::Cosine;
    else if (name == "cosine_with_min_lr") o.kind = ScheduleKind::CosineWithMinLr, o.min_lr_rate = kw.at("min_lr_rate");
    else if (name == "axolotl_cosine_min_lr") o.kind = ScheduleKind::CosineWithMinLr, o.min_lr_rate = kw.at("cosine_min_lr_ratio");
    else if (name == "polynomial") o.kind = ScheduleKind::Polynomial, o.power = kw.at("power"), o.lr_end = kw.at("lr_end");
    else if (name == "one_cycle") o.kind = ScheduleKind::OneCycle;
    else FAIL() << "unknown schedule " << name;
    LrSchedule s(o);
    const auto& lrs = c.at("lrs");
    for (size_t k = 0; k < lrs.size(); ++k) {
      double e = rel_err(s.lr(static_cast<int64_t>(k)), lrs[k].get<double>());
      worst = std::max(worst, e);
      ASSERT_LE(e, 1e-12) << "step " << k << ": " << s.lr(k) << " vs " << lrs[k].get<double>();
    }
    if (c.contains("beta1")) {
      for (size_t k = 0; k < lrs.size(); ++k) {
        ASSERT_LE(rel_err(*s.beta1(static_cast<int64_t>(k)), c["beta1"][k].get<double>()), 1e-12) << "beta1 step " << k;
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 30);
  std::printf("lr schedules: %d cases, worst relative error %.3g\n", cases, worst);
}

}  // namespace
