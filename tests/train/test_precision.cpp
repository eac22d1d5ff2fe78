// Mixed precision: which dtypes each setting gives (precision.h's table), the autocast guard,
// tf32, and LoRA training on stories260K under bf16 and fp16 (falling loss, float32 adapter
// saved as float32), fp16 overflow skipping at the trainer level, and an exact fp16 resume
// that carries the loss scaler's state.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "axl/core/tensor_io.h"
#include "axl/train/precision.h"
#include "axl/train/train_state.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/train/stories_model.h"

namespace {

using axl::train::Precision;

TEST(Precision, EachSettingGivesHfsDtypes) {
  axl::config::Config c;
  Precision p = axl::train::precision_for(c, false);
  EXPECT_EQ(p.weights, at::kFloat);
  EXPECT_FALSE(p.autocast);
  EXPECT_FALSE(p.loss_scaling);

  c.bf16 = true;
  for (bool full : {false, true}) {
    p = axl::train::precision_for(c, full);
    EXPECT_EQ(p.weights, at::kBFloat16);  // full FT trains bf16 weights, as HF does
    EXPECT_EQ(p.autocast, at::kBFloat16);
    EXPECT_FALSE(p.loss_scaling);
  }
  c.bf16 = false;
  c.fp16 = true;
  p = axl::train::precision_for(c, false);
  EXPECT_EQ(p.weights, at::kHalf);
  EXPECT_EQ(p.autocast, at::kHalf);
  EXPECT_TRUE(p.loss_scaling);
  p = axl::train::precision_for(c, true);
  EXPECT_EQ(p.weights, at::kFloat);  // float32 master weights under fp16 autocast
  EXPECT_EQ(p.autocast, at::kHalf);
  EXPECT_EQ(p.describe(), "fp16 autocast, Float base weights, dynamic loss scaling");
}

TEST(Precision, AutocastGuardCastsMatmulsAndRestores) {
  at::Tensor a = at::randn({4, 8}), w = at::randn({3, 8});
  EXPECT_EQ(at::linear(a, w).scalar_type(), at::kFloat);
  {
    axl::train::AutocastGuard outer(at::kCPU, at::kBFloat16);
    EXPECT_EQ(at::linear(a, w).scalar_type(), at::kBFloat16);
    {
      axl::train::AutocastGuard inner(at::kCPU, at::kHalf);
      EXPECT_EQ(at::linear(a, w).scalar_type(), at::kHalf);
      axl::train::AutocastGuard none(at::kCPU, std::nullopt);  // no-op
      EXPECT_EQ(at::linear(a, w).scalar_type(), at::kHalf);
    }
    EXPECT_EQ(at::linear(a, w).scalar_type(), at::kBFloat16);
    EXPECT_EQ(axl::train::current_autocast(at::kCPU), at::kBFloat16);
  }
  EXPECT_EQ(at::linear(a, w).scalar_type(), at::kFloat);
  EXPECT_FALSE(axl::train::current_autocast(at::kCPU));
}

TEST(Precision, Tf32SwitchesCudaMatmulPrecision) {
  auto& ctx = at::globalContext();
  const auto before = ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL);
  axl::train::set_tf32(true);
  EXPECT_EQ(ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL), at::Float32Precision::TF32);
  axl::train::set_tf32(false);
  EXPECT_EQ(ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL), at::Float32Precision::IEEE);
  ctx.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, before);
}

const axl::test::StoriesModel* stories() { return axl::test::stories_model("stories-train"); }

#define REQUIRE_STORIES(s)                                                                \
  const axl::test::StoriesModel* s = stories();                                           \
  if (!s) {                                                                               \
    if (axl::test::fixtures_required()) FAIL() << "missing fixture llama2c-stories260K";  \
    GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";                        \
  }

const std::string kLora = "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\n";

void expect_half_precision_lora_learns(const std::string& setting, at::ScalarType base) {
  REQUIRE_STORIES(s);
  const std::string out = s->dir + "/" + setting;
  auto cfg = axl::test::stories_config(*s, out, kLora + setting + ": true\nmax_steps: 12\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  EXPECT_EQ(run->model.embed.scalar_type(), base);
  EXPECT_EQ(run->model.layers[0].q->base->dense_weight().scalar_type(), base);
  for (auto& [name, t] : run->adapter->trainable()) EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
  auto summary = axl::train::train(*run, opts);
  EXPECT_EQ(summary.steps, 12);
  EXPECT_TRUE(std::isfinite(summary.last_loss));
  EXPECT_LT(summary.last_loss, 0.8 * summary.first_loss) << summary.first_loss << " -> " << summary.last_loss;
  ASSERT_TRUE(summary.eval_loss_before && summary.eval_loss_after);
  EXPECT_LT(*summary.eval_loss_after, *summary.eval_loss_before);
  for (auto& [name, t] : run->adapter->trainable()) EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
  auto saved = axl::load_safetensors(out + "/adapter_model.safetensors");
  ASSERT_FALSE(saved.empty());
  for (auto& [name, t] : saved) EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
  std::printf("%s LoRA on stories260K: loss %.4f -> %.4f, eval %.4f -> %.4f\n", setting.c_str(), summary.first_loss,
              summary.last_loss, *summary.eval_loss_before, *summary.eval_loss_after);
}

TEST(PrecisionTraining, BfloatAutoIsFloat32OnTheCpu) {
  REQUIRE_STORIES(s);
  auto cfg = axl::test::stories_config(*s, s->dir + "/auto", kLora + "bf16: auto\n");
  EXPECT_FALSE(cfg.bf16);
  EXPECT_FALSE(cfg.fp16);
  const Precision p = axl::train::precision_for(cfg, false);
  EXPECT_EQ(p.weights, at::kFloat);
  EXPECT_FALSE(p.autocast);
}

TEST(PrecisionTraining, Bf16LoraLearnsWithAFloat32Adapter) { expect_half_precision_lora_learns("bf16", at::kBFloat16); }

TEST(PrecisionTraining, Fp16LoraLearnsWithAFloat32Adapter) { expect_half_precision_lora_learns("fp16", at::kHalf); }

TEST(PrecisionTraining, FullFineTuneDtypes) {
  REQUIRE_STORIES(s);
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  for (const std::string setting : {"bf16", "fp16"}) {
    auto run = axl::train::prepare_run(
        axl::test::stories_config(*s, s->dir + "/full-" + setting, setting + ": true\nmax_steps: 3\nlearning_rate: 0.001\n"),
        opts);
    const at::ScalarType want = setting == "bf16" ? at::kBFloat16 : at::kFloat;
    EXPECT_EQ(run->model.embed.scalar_type(), want) << setting;
    at::Tensor before = run->model.layers[0].q->base->dense_weight().detach().clone();
    auto summary = axl::train::train(*run, opts);
    EXPECT_TRUE(std::isfinite(summary.last_loss)) << setting;
    EXPECT_EQ(run->model.embed.scalar_type(), want) << setting;
    EXPECT_FALSE(at::equal(before, run->model.layers[0].q->base->dense_weight())) << setting << " weights trained";
  }
}

// Makes the gradient of `t` inf in its `when`-th backward (1-based), once.
void inject_inf_gradient(at::Tensor t, int when) {
  auto calls = std::make_shared<int>(0);
  t.register_hook([calls, when](const at::Tensor& g) {
    return ++*calls == when ? at::full_like(g, INFINITY) : g;
  });
}

TEST(PrecisionTraining, Fp16OverflowSkipsTheStepAndHalvesTheScale) {
  REQUIRE_STORIES(s);
  const std::string out = s->dir + "/fp16-overflow";
  auto cfg = axl::test::stories_config(*s, out, kLora + "fp16: true\nmax_steps: 4\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  inject_inf_gradient(run->adapter->trainable().begin()->second, 3);  // step 2's first micro-batch
  auto summary = axl::train::train(*run, opts);
  EXPECT_EQ(summary.steps, 4);
  auto state = axl::train::TrainState::load(out + "/trainer_state.json");
  EXPECT_EQ(state.global_step, 4);
  EXPECT_EQ(state.scheduler_steps, 3);  // the skipped step did not advance the schedule
  ASSERT_TRUE(state.loss_scale.has_value());
  EXPECT_EQ(*state.loss_scale, 32768.0);  // 65536 halved once
  EXPECT_EQ(state.loss_scale_growth_tracker, 2);  // steps 3 and 4 were good
}

TEST(PrecisionTraining, Fp16ResumeRestoresTheScalerExactly) {
  REQUIRE_STORIES(s);
  const std::string lora = kLora + "fp16: true\nlora_dropout: 0.1\nmax_steps: 6\nsave_steps: 3\n";
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  const std::string a = s->dir + "/fp16-straight", b = s->dir + "/fp16-resumed";
  auto straight = axl::train::prepare_run(axl::test::stories_config(*s, a, lora), opts);
  inject_inf_gradient(straight->adapter->trainable().begin()->second, 3);  // scale 32768 from step 2
  axl::train::train(*straight, opts);
  std::map<std::string, at::Tensor> want;
  for (auto& [name, t] : straight->adapter->state_dict()) want[name] = t.detach().clone();
  straight.reset();
  auto at_3 = axl::train::TrainState::load(a + "/checkpoint-3/trainer_state.json");
  ASSERT_TRUE(at_3.loss_scale.has_value());
  EXPECT_EQ(*at_3.loss_scale, 32768.0);
  EXPECT_EQ(at_3.loss_scale_growth_tracker, 1);

  auto resumed = axl::train::prepare_run(
      axl::test::stories_config(*s, b, lora + "resume_from_checkpoint: " + a + "/checkpoint-3\n"), opts);
  auto summary = axl::train::train(*resumed, opts);
  EXPECT_EQ(summary.steps, 3);
  auto got = resumed->adapter->state_dict();
  for (auto& [name, t] : want) EXPECT_TRUE(at::equal(t, got.at(name))) << name;
  auto end_a = axl::train::TrainState::load(a + "/trainer_state.json");
  auto end_b = axl::train::TrainState::load(b + "/trainer_state.json");
  EXPECT_EQ(end_a.loss_scale, end_b.loss_scale);
  EXPECT_EQ(end_b.loss_scale_growth_tracker, 4);
}

}  // namespace
