// Token-sum normalisation: 4 accumulated micro-batches of unequal lengths give exactly the
// gradient of one batch holding them all.
#include <gtest/gtest.h>

#include "axl/train/token_loss.h"
#include "tests/fixtures.h"

namespace {

using axl::train::summed_causal_lm_loss;

TEST(TokenLoss, CountsShiftedTrainedTokens) {
  at::Tensor labels = at::tensor({5, 6, -100, 7, -100, 1, 2, 3}, at::kLong).reshape({2, 4});
  EXPECT_EQ(axl::train::trained_token_count(labels), 5);  // shifted: [6,-100,7] and [1,2,3]
  auto plan = axl::train::plan_accumulation({labels, at::full({1, 3}, -100, at::kLong)});
  EXPECT_EQ(plan.total_tokens, 5);
  EXPECT_EQ(plan.tokens_per_micro_batch[1], 0);
  EXPECT_DOUBLE_EQ(plan.loss_scale(), 0.2);
}

TEST(TokenLoss, SummedLossIsSumOfTokenNll) {
  at::Tensor logits = at::tensor({0.0, 1.0, 2.0, 0.5, 0.5, 0.5}, at::kDouble).reshape({1, 2, 3});
  at::Tensor labels = at::tensor({-100, 2}, at::kLong).reshape({1, 2});
  double want = -(2.0 - std::log(std::exp(0.0) + std::exp(1.0) + std::exp(2.0)));
  EXPECT_NEAR(summed_causal_lm_loss(logits, labels).item<double>(), want, 1e-15);
}

TEST(TokenLoss, AccumulatedGradientEqualsOneBigBatch) {
  auto g = axl::compat::make_cpu_generator(11);
  const int64_t vocab = 13, hidden = 8;
  at::Tensor w0 = at::randn({vocab, hidden}, g, at::kDouble);
  const int64_t lengths[] = {5, 9, 3, 12};
  std::vector<at::Tensor> xs, labels;
  for (int64_t len : lengths) {
    xs.push_back(at::randn({1, len, hidden}, g, at::kDouble));
    at::Tensor lab = at::randint(0, vocab, {1, len}, g, at::kLong);
    lab.index_put_({0, 0}, -100);
    if (len > 4) lab.index_put_({0, 3}, -100);
    labels.push_back(lab);
  }
  // Accumulated: each micro-batch's summed loss / total tokens, backward per micro-batch.
  at::Tensor w = w0.clone().requires_grad_(true);
  auto plan = axl::train::plan_accumulation(labels);
  for (size_t i = 0; i < xs.size(); ++i)
    (summed_causal_lm_loss(at::matmul(xs[i], w.t()), labels[i]) / static_cast<double>(plan.total_tokens)).backward();
  at::Tensor accumulated = w.grad().clone();

  // One batch: right-pad every row to the longest with label -100, mean over trained tokens.
  const int64_t t = 12;
  at::Tensor x_big = at::zeros({4, t, hidden}, at::kDouble);
  at::Tensor lab_big = at::full({4, t}, -100, at::kLong);
  for (int i = 0; i < 4; ++i) {
    x_big.narrow(0, i, 1).narrow(1, 0, lengths[i]).copy_(xs[i]);
    lab_big.narrow(0, i, 1).narrow(1, 0, lengths[i]).copy_(labels[i]);
  }
  at::Tensor w2 = w0.clone().requires_grad_(true);
  at::Tensor logits = at::matmul(x_big, w2.t());
  at::cross_entropy_loss(logits.narrow(1, 0, t - 1).reshape({-1, vocab}),
                         lab_big.narrow(1, 1, t - 1).reshape({-1}), {}, at::Reduction::Mean, -100)
      .backward();
  double err = (accumulated - w2.grad()).abs().max().item<double>();
  EXPECT_LE(err, 1e-12);
  // And the mean of micro-batch means would not match (the bug this design avoids).
  at::Tensor w3 = w0.clone().requires_grad_(true);
  for (size_t i = 0; i < xs.size(); ++i)
    (summed_causal_lm_loss(at::matmul(xs[i], w3.t()), labels[i]) /
     static_cast<double>(plan.tokens_per_micro_batch[i]) / 4.0).backward();
  EXPECT_GT((w3.grad() - w2.grad()).abs().max().item<double>(), 1e-6);
  std::printf("token-sum accumulation: max |grad difference| vs one batch %.3g\n", err);
}

}  // namespace
