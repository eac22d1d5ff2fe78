// Every optimizer on one fixed noisy least-squares problem (a 96x64 weight: over the
// 4096-element 8-bit threshold, and a bias under it), 200 full-batch steps with a linearly
// decaying learning rate: each must end within a stated margin of fp32 AdamW's loss (which
// reaches the noise floor). Prints the table the report cites.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <chrono>

#include "axl/core/torch_compat.h"
#include "axl/train/optimizer.h"

namespace {

using axl::train::NamedParam;
using axl::train::Optimizer;
using axl::train::OptimizerOptions;

struct Problem {
  at::Tensor x, y, w0, b0;
};

Problem make_problem() {
  auto g = axl::compat::make_cpu_generator(42);
  Problem p;
  p.x = at::randn({256, 96}, g);
  at::Tensor w_true = at::randn({96, 64}, g) * 0.2;
  at::Tensor b_true = at::randn({64}, g) * 0.2;
  p.y = p.x.mm(w_true) + b_true + at::randn({256, 64}, g) * 0.1;  // noise: the optimum is > 0
  p.w0 = at::randn({96, 64}, g) * 0.02;
  p.b0 = at::zeros({64});
  return p;
}

double loss_of(const Problem& pr, const at::Tensor& w, const at::Tensor& b) {
  return (pr.x.mm(w) + b - pr.y).pow(2).mean().item<double>();
}

struct Outcome {
  double loss;
  int64_t state_bytes;
};

Outcome train(const Problem& pr, const std::string& kind, double lr, double beta2, int steps) {
  OptimizerOptions o;
  o.kind = axl::train::optimizer_kind_from_name(kind);
  o.lr = lr;
  o.beta1 = 0.9;
  o.beta2 = beta2;
  o.weight_decay = 0.0;
  std::vector<NamedParam> ps = {{"model.layers.0.mlp.up_proj.weight", pr.w0.clone().requires_grad_(true), true},
                                {"model.layers.0.mlp.up_proj.bias", pr.b0.clone().requires_grad_(true), false}};
  Optimizer opt(ps, o);
  for (int s = 0; s < steps; ++s) {
    opt.set_lr(lr * (1.0 - static_cast<double>(s) / steps));  // HF's linear schedule, no warmup
    at::Tensor loss = (pr.x.mm(ps[0].tensor) + ps[1].tensor - pr.y).pow(2).mean();
    loss.backward();
    opt.step();
    opt.zero_grad();
  }
  at::NoGradGuard ng;
  return {loss_of(pr, ps[0].tensor, ps[1].tensor), axl::train::state_bytes(opt.state().at(ps[0].name))};
}

TEST(OptimConvergence, EveryOptimizerNearFp32AdamW) {
  at::set_num_threads(1);  // a tiny problem: threads cost more than they give on a busy machine
  const Problem pr = make_problem();
  const int steps = 200;
  const double initial = loss_of(pr, pr.w0, pr.b0);
  const Outcome base = train(pr, "adamw_torch", 3e-2, 0.999, steps);
  std::printf("fixed problem: initial loss %.5f, adamw_torch (fp32) after %d steps %.5f\n", initial, steps, base.loss);
  EXPECT_LT(base.loss, initial * 0.02);
  struct Case {
    const char* kind;
    double lr, beta2, margin;  // final loss <= margin * fp32 AdamW's
  };
  // Lion with its paper's betas (0.9, 0.99); Adafactor ignores the betas.
  const Case cases[] = {{"adamw_torch_fused", 3e-2, 0.999, 1.001}, {"adamw_bnb_8bit", 3e-2, 0.999, 1.01},
                        {"paged_adamw_8bit", 3e-2, 0.999, 1.01},   {"paged_adamw_32bit", 3e-2, 0.999, 1.001},
                        {"lion_32bit", 2e-2, 0.99, 1.02},          {"lion_8bit", 2e-2, 0.99, 1.02},
                        {"paged_lion_8bit", 2e-2, 0.99, 1.02},     {"paged_lion_32bit", 2e-2, 0.99, 1.02},
                        {"adafactor", 3e-2, 0.999, 1.02}};
  const double n = 96 * 64;
  std::printf("%-18s %10s %10s %8s %14s\n", "optimizer", "lr", "loss", "ratio", "state B/elem");
  std::printf("%-18s %10.0e %10.6f %8.4f %14.4f\n", "adamw_torch", 3e-2, base.loss, 1.0, base.state_bytes / n);
  for (const Case& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    const Outcome r = train(pr, c.kind, c.lr, c.beta2, steps);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-18s %10.0e %10.6f %8.4f %14.4f  (%.2f s)\n", c.kind, c.lr, r.loss, r.loss / base.loss,
                r.state_bytes / n, secs);
    EXPECT_LE(r.loss, c.margin * base.loss) << c.kind;
  }
}

}  // namespace
