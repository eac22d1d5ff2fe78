// clip_grad_norm_ semantics, fp16 dynamic loss scaling (GradScaler), TrainingError.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "axl/train/grad_clip.h"
#include "axl/train/loss_scaler.h"
#include "axl/train/training_error.h"

namespace {

at::Tensor param_with_grad(std::vector<double> grad) {
  at::Tensor p = at::zeros({static_cast<int64_t>(grad.size())}, at::kFloat).requires_grad_(true);
  p.mutable_grad() = at::tensor(grad, at::kFloat);
  return p;
}

TEST(GradClip, ReturnsPreClipNormAndScales) {
  at::Tensor a = param_with_grad({3.0, 0.0}), b = param_with_grad({0.0, 4.0});
  at::Tensor none = at::zeros({2}).requires_grad_(true);  // no gradient: ignored
  double norm = axl::train::clip_grad_norm({a, b, none}, 1.0).item<double>();
  EXPECT_NEAR(norm, 5.0, 1e-6);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 * coef, 1e-6);
  EXPECT_NEAR(b.grad()[1].item<double>(), 4.0 * coef, 1e-6);
  EXPECT_NEAR(axl::train::total_grad_norm({a, b}).item<double>(), 1.0, 1e-5);
}

TEST(GradClip, SmallNormIsUnchanged) {
  at::Tensor a = param_with_grad({0.3, 0.4});
  EXPECT_NEAR(axl::train::clip_grad_norm({a}, 1.0).item<double>(), 0.5, 1e-7);
  EXPECT_FLOAT_EQ(a.grad()[0].item<float>(), 0.3f);
}

TEST(GradClip, NonFiniteNormIsReported) {
  at::Tensor a = param_with_grad({std::numeric_limits<double>::quiet_NaN(), 1.0});
  EXPECT_TRUE(std::isnan(axl::train::clip_grad_norm({a}, 1.0).item<double>()));
}

TEST(LossScaler, DefaultsScaleAndUnscale) {
  axl::train::LossScaler scaler;
  EXPECT_DOUBLE_EQ(scaler.scale(), 65536.0);
  at::Tensor loss = at::full({}, 0.5, at::kFloat);
  EXPECT_DOUBLE_EQ(scaler.scale_loss(loss).item<double>(), 32768.0);
  at::Tensor p = param_with_grad({65536.0, 131072.0});
  EXPECT_FALSE(scaler.unscale({p}));
  EXPECT_FLOAT_EQ(p.grad()[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(p.grad()[1].item<float>(), 2.0f);
}

TEST(LossScaler, InfOrNanSkipsAndBacksOff) {
  axl::train::LossScaler scaler;
  at::Tensor p = param_with_grad({1.0, std::numeric_limits<double>::infinity()});
  EXPECT_TRUE(scaler.unscale({p}));
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 32768.0);
  at::Tensor q = param_with_grad({std::numeric_limits<double>::quiet_NaN(), 1.0});
  EXPECT_TRUE(scaler.unscale({q}));
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.scale(), 16384.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(LossScaler, GrowsAfterIntervalGoodSteps) {
  axl::train::LossScalerOptions o;
  o.growth_interval = 5;
  axl::train::LossScaler scaler(o);
  for (int i = 0; i < 4; ++i) scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 4);
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 131072.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  scaler.update(true);  // an overflow resets the count
  for (int i = 0; i < 4; ++i) scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 65536.0);
  // The default interval is torch's 2000.
  axl::train::LossScaler d;
  for (int i = 0; i < 1999; ++i) d.update(false);
  EXPECT_DOUBLE_EQ(d.scale(), 65536.0);
  d.update(false);
  EXPECT_DOUBLE_EQ(d.scale(), 131072.0);
}

TEST(TrainingError, NamesStepAndMicroBatch) {
  axl::train::TrainingError e("the loss is nan", 12, 3);
  EXPECT_EQ(std::string(e.what()), "training step 12, micro-batch 3: the loss is nan");
  EXPECT_EQ(e.step, 12);
  axl::train::TrainingError g("the gradient norm is inf", 4, -1);
  EXPECT_EQ(std::string(g.what()), "training step 4: the gradient norm is inf");
}

}  // namespace
