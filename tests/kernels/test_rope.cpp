// RoPE frequencies for each scaling type, against values worked out from the formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "axl/kernels/rope.h"

namespace {

TEST(Rope, DefaultAndLinear) {
  axl::kernels::RopeConfig r;
  r.theta = 10000;
  at::Tensor f = axl::kernels::rope_inv_freq(r, 8, 128, 16, at::kCPU);
  ASSERT_EQ(f.size(0), 4);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(f[i].item<double>(), std::pow(10000.0, -2.0 * i / 8), 1e-7);
  r.type = "linear";
  r.factor = 4;
  at::Tensor g = axl::kernels::rope_inv_freq(r, 8, 128, 16, at::kCPU);
  EXPECT_TRUE(at::allclose(g, f / 4));
}

TEST(Rope, Llama3KeepsHighAndScalesLowFrequencies) {
  axl::kernels::RopeConfig r;
  r.type = "llama3";
  r.theta = 500000;
  r.factor = 8;
  r.low_freq_factor = 1;
  r.high_freq_factor = 4;
  r.original_max_position_embeddings = 8192;
  at::Tensor base = axl::kernels::rope_inv_freq(axl::kernels::RopeConfig{"default", 500000}, 64, 8192, 1, at::kCPU);
  at::Tensor f = axl::kernels::rope_inv_freq(r, 64, 8192, 1, at::kCPU);
  EXPECT_FLOAT_EQ(f[0].item<float>(), base[0].item<float>());          // high frequency: kept
  EXPECT_FLOAT_EQ(f[31].item<float>(), base[31].item<float>() / 8.0f);  // low frequency: / factor
}

TEST(Rope, DynamicGrowsBaseOnlyPastTheContext) {
  axl::kernels::RopeConfig r;
  r.type = "dynamic";
  r.factor = 2;
  at::Tensor inside = axl::kernels::rope_inv_freq(r, 8, 16, 16, at::kCPU);
  at::Tensor beyond = axl::kernels::rope_inv_freq(r, 8, 16, 32, at::kCPU);
  EXPECT_FLOAT_EQ(inside[1].item<float>(), std::pow(10000.0f, -0.25f));
  double base = 10000 * std::pow(2.0 * 32 / 16 - 1, 8.0 / 6.0);
  EXPECT_NEAR(beyond[1].item<double>(), std::pow(base, -0.25), 1e-7);  // float32
}

TEST(Rope, RotationPreservesNormAndPositionZeroIsIdentity) {
  at::manual_seed(1);
  at::Tensor x = at::randn({1, 2, 5, 8});
  at::Tensor inv = axl::kernels::rope_inv_freq({}, 8, 64, 5, at::kCPU);
  auto [cos, sin] = axl::kernels::rope_cos_sin(inv, at::arange(5, at::kLong).view({1, 5}), at::kFloat);
  at::Tensor y = axl::kernels::apply_rope(x, cos, sin);
  EXPECT_TRUE(at::allclose(y.norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(y.select(2, 0), x.select(2, 0)));
}

}  // namespace
