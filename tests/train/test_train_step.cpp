// The training-step driver on the hf-tiny Llama: parity of the first two full fine-tuning
// steps with torch + transformers, loss falling over 20 steps, NaN reporting, fp16 skipping.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "axl/core/tensor_io.h"
#include "axl/models/loader.h"
#include "axl/train/train_step.h"
#include "axl/train/training_error.h"
#include "tests/train/peer_refs.h"

namespace {

using namespace axl::train;

axl::models::CausalLM load_tiny(const std::string& dir) {
  axl::models::LoadOptions lo;
  lo.writable = true;
  return axl::models::load_causal_lm(dir, lo);
}

OptimizerOptions adamw(double lr) {
  OptimizerOptions o;
  o.kind = OptimizerKind::AdamWFused;
  o.lr = lr;
  o.weight_decay = 0.01;
  return o;
}

std::vector<MicroBatch> fixed_batch() {
  auto g = axl::compat::make_cpu_generator(5);
  at::Tensor a = at::randint(0, 256, {2, 10}, g, at::kLong);
  at::Tensor b = at::randint(0, 256, {1, 7}, g, at::kLong);
  return {{a, a.clone(), at::ones_like(a)}, {b, b.clone(), at::ones_like(b)}};
}

TEST(TrainStep, MatchesTransformersFirstSteps) {
  AXL_REQUIRE_TRAIN_REF(path, "train_step.safetensors");
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto ref = axl::load_safetensors(path);
  auto model = load_tiny(dir);
  auto params = full_finetune_parameters(model);
  Optimizer opt(params, adamw(1e-3));
  TrainState state;
  std::vector<MicroBatch> mbs;
  for (int i = 0; i < 2; ++i) {
    std::string p = "mb" + std::to_string(i) + ".";
    mbs.push_back({ref.at(p + "input_ids"), ref.at(p + "labels"), ref.at(p + "attention_mask")});
  }
  StepOptions so;
  so.attention = axl::kernels::AttentionImpl::Eager;
  so.max_grad_norm = 1.0;
  for (int k = 0; k < 2; ++k) {
    StepResult r = train_step(model, opt, nullptr, state, mbs, so);
    double e_loss = std::abs(r.loss - ref.at("loss." + std::to_string(k)).item<double>());
    double e_norm = std::abs(r.grad_norm - ref.at("grad_norm." + std::to_string(k)).item<double>());
    double e_w = 0;
    for (const auto& p : params) {
      at::Tensor want = ref.at("step" + std::to_string(k) + "." + p.name);
      e_w = std::max(e_w, (p.tensor.detach() - want).abs().max().item<double>());
    }
    EXPECT_LE(e_loss, 1e-5);
    EXPECT_LE(e_norm, 1e-5);
    EXPECT_LE(e_w, 1e-5);
    std::printf("train step %d vs transformers: loss %.3g grad_norm %.3g weights max abs %.3g\n", k,
                e_loss, e_norm, e_w);
  }
  EXPECT_EQ(state.global_step, 2);
  EXPECT_EQ(opt.groups().size(), 2u);
  EXPECT_EQ(opt.groups()[1].params.size(), 5u);  // 2 x 2 layer norms + the final norm
}

TEST(TrainStep, LossFallsOnARepeatedBatch) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto model = load_tiny(dir);
  auto params = full_finetune_parameters(model);
  Optimizer opt(params, adamw(3e-3));
  ScheduleOptions so;
  so.kind = ScheduleKind::Cosine;
  so.base_lr = 3e-3;
  so.total_steps = 20;
  so.warmup_steps = 2;
  LrSchedule schedule(so);
  TrainState state;
  auto mbs = fixed_batch();
  std::vector<double> losses;
  for (int k = 0; k < 20; ++k) {
    StepResult r = train_step(model, opt, &schedule, state, mbs);
    EXPECT_DOUBLE_EQ(r.learning_rate, schedule.lr(k));
    EXPECT_EQ(r.trained_tokens, 2 * 9 + 6);
    losses.push_back(r.loss);
  }
  EXPECT_LT(losses.back(), 0.5 * losses.front());
  EXPECT_EQ(state.log_history.size(), 20u);
  EXPECT_EQ(state.num_input_tokens_seen, 20 * 27);
  std::printf("loss over 20 steps: %.4f -> %.4f\n", losses.front(), losses.back());
}

TEST(TrainStep, NonFiniteLossIsReportedAndNoStepApplied) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto model = load_tiny(dir);
  auto params = full_finetune_parameters(model);
  Optimizer opt(params, adamw(1e-3));
  TrainState state;
  auto mbs = fixed_batch();
  // A NaN in one weight of the last layer's MLP poisons the logits of every micro-batch.
  at::Tensor before = params.front().tensor.detach().clone();
  {
    at::NoGradGuard ng;
    model.layers.back().down->base->dense_weight().index_put_({0, 0}, std::numeric_limits<double>::quiet_NaN());
  }
  try {
    train_step(model, opt, nullptr, state, mbs);
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_EQ(e.step, 1);  // the first step, as the log lines number it
    EXPECT_EQ(e.micro_batch, 0);
    EXPECT_NE(std::string(e.what()).find("micro-batch 0"), std::string::npos);
  }
  EXPECT_TRUE(at::equal(params.front().tensor.detach(), before));  // no step applied
  EXPECT_EQ(state.global_step, 0);
  for (const auto& p : params) EXPECT_FALSE(p.tensor.grad().defined());
}

TEST(TrainStep, Fp16OverflowSkipsTheStepAndHalvesTheScale) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto model = load_tiny(dir);
  auto params = full_finetune_parameters(model);
  Optimizer opt(params, adamw(1e-3));
  LossScalerOptions lo;
  lo.init_scale = 1e38;  // float32 overflows: inf gradients
  LossScaler scaler(lo);
  ScheduleOptions so;
  so.kind = ScheduleKind::Linear;
  so.base_lr = 1e-3;
  so.total_steps = 10;
  LrSchedule schedule(so);
  TrainState state;
  StepOptions opts;
  opts.scaler = &scaler;
  at::Tensor before = params.front().tensor.detach().clone();
  StepResult r = train_step(model, opt, &schedule, state, fixed_batch(), opts);
  EXPECT_TRUE(r.skipped);
  EXPECT_TRUE(at::equal(params.front().tensor.detach(), before));
  EXPECT_FLOAT_EQ(static_cast<float>(scaler.scale()), 5e37f);
  EXPECT_EQ(state.global_step, 1);
  EXPECT_EQ(state.scheduler_steps, 0);  // HF does not advance the schedule on a skipped step
  scaler.set_state(1024.0, 0);
  StepResult r2 = train_step(model, opt, &schedule, state, fixed_batch(), opts);
  EXPECT_FALSE(r2.skipped);
  EXPECT_FALSE(at::equal(params.front().tensor.detach(), before));
  EXPECT_TRUE(std::isfinite(r2.grad_norm));
  EXPECT_EQ(state.scheduler_steps, 1);
}

}  // namespace
