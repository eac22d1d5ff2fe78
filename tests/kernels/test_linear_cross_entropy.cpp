// The chunked LM-head cross-entropy against its plain-ATen reference: loss and gradients
// (hidden and weight), ignored targets, chunks that do not divide the rows, bfloat16.
#include <gtest/gtest.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>

#include "axl/kernels/linear_cross_entropy.h"

namespace {

struct Case {
  at::Tensor h, w, t;
};

Case make_case(int64_t n, int64_t hdim, int64_t vocab, at::ScalarType dtype, uint64_t seed) {
  at::manual_seed(seed);
  Case c;
  c.h = at::randn({n, hdim}).to(dtype).requires_grad_(true);
  c.w = (at::randn({vocab, hdim}) * 0.3).to(dtype).requires_grad_(true);
  c.t = at::randint(vocab, {n}, at::kLong);
  c.t.index_put_({at::indexing::Slice(0, n, 3)}, -100);  // every third row ignored
  return c;
}

// Loss and gradients of both versions with the same upstream gradient (as 1/tokens does).
void expect_match(const Case& c, int64_t chunk, double rtol, double atol) {
  const double upstream = 1.0 / 37.0;
  at::Tensor ref = axl::kernels::linear_cross_entropy_sum_reference(c.h, c.w, c.t);
  auto ref_grads = torch::autograd::grad({ref * upstream}, {c.h, c.w});
  at::Tensor got = axl::kernels::linear_cross_entropy_sum(c.h, c.w, c.t, -100, chunk);
  auto got_grads = torch::autograd::grad({got * upstream}, {c.h, c.w});
  EXPECT_EQ(got.scalar_type(), at::kFloat);
  EXPECT_NEAR(got.item<double>(), ref.item<double>(), rtol * std::abs(ref.item<double>()));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(got_grads[i].scalar_type(), ref_grads[i].scalar_type());
    EXPECT_TRUE(at::allclose(got_grads[i].to(at::kFloat), ref_grads[i].to(at::kFloat), rtol, atol))
        << "gradient " << i << " max diff "
        << (got_grads[i].to(at::kFloat) - ref_grads[i].to(at::kFloat)).abs().max().item<double>();
  }
}

TEST(LinearCrossEntropy, MatchesReferenceFloat32) {
  Case c = make_case(50, 16, 300, at::kFloat, 1);
  for (int64_t chunk : {1, 7, 50, 64}) expect_match(c, chunk, 1e-5, 1e-6);
  expect_match(c, 0, 1e-5, 1e-6);  // default chunking
}

TEST(LinearCrossEntropy, MatchesReferenceBFloat16) {
  Case c = make_case(40, 32, 200, at::kBFloat16, 2);
  expect_match(c, 16, 2e-2, 2e-3);
}

TEST(LinearCrossEntropy, FrozenWeightAndAllIgnored) {
  Case c = make_case(12, 8, 40, at::kFloat, 3);
  at::Tensor w = c.w.detach();
  at::Tensor got = axl::kernels::linear_cross_entropy_sum(c.h, w, c.t, -100, 5);
  at::Tensor ref = axl::kernels::linear_cross_entropy_sum_reference(c.h, w, c.t);
  EXPECT_NEAR(got.item<double>(), ref.item<double>(), 1e-4);
  at::Tensor g = torch::autograd::grad({got}, {c.h})[0];
  at::Tensor gr = torch::autograd::grad({ref}, {c.h})[0];
  EXPECT_TRUE(at::allclose(g, gr, 1e-5, 1e-6));

  at::Tensor none = at::full({12}, -100, at::kLong);
  at::Tensor zero = axl::kernels::linear_cross_entropy_sum(c.h, w, none, -100, 5);
  EXPECT_EQ(zero.item<double>(), 0.0);
  EXPECT_EQ(torch::autograd::grad({zero}, {c.h})[0].abs().max().item<double>(), 0.0);
}

TEST(LinearCrossEntropy, RejectsBadShapesAndHalf) {
  at::Tensor h = at::randn({4, 8}), w = at::randn({10, 8}), t = at::zeros({4}, at::kLong);
  EXPECT_THROW(axl::kernels::linear_cross_entropy_sum(h, at::randn({10, 7}), t), std::invalid_argument);
  EXPECT_THROW(axl::kernels::linear_cross_entropy_sum(h, w, at::zeros({3}, at::kLong)), std::invalid_argument);
  EXPECT_THROW(axl::kernels::linear_cross_entropy_sum(h.to(at::kHalf), w.to(at::kHalf), t), std::invalid_argument);
  EXPECT_FALSE(axl::kernels::linear_cross_entropy_supports(at::kHalf));
}

}  // namespace
