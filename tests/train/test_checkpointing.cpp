// Gradient checkpointing changes memory, never numbers: in float64 on the hf-tiny Llama, every
// LoRA gradient (dropout 0.1 on all linear layers, frozen embeddings feeding layer 0) and every
// gradient of a one-layer full fine-tune equals the plain run's, the RNG stream after backward
// is the plain run's, and `gradient_checkpointing: true` trains stories260K to the same adapter.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "axl/models/loader.h"
#include "axl/peft/lora.h"
#include "axl/train/activation_checkpoint.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/train/float64_lora.h"
#include "tests/train/stories_model.h"

namespace {

using axl::models::CausalLM;

using axl::test::load_double;

axl::peft::Adapter attach_test_lora(CausalLM& model) { return axl::test::attach_float64_lora(model); }

struct Pass {
  std::vector<at::Tensor> grads;
  at::Tensor next_draw;  // what the CPU generator gives after the backward
};

// One forward + backward of a fixed padded batch under `seed`; returns the gradients of
// `params` (and clears them).
Pass forward_backward(const CausalLM& model, const std::vector<at::Tensor>& params, bool checkpointing,
                      uint64_t seed) {
  const axl::test::PaddedBatch b = axl::test::padded_test_batch();
  axl::models::ForwardInput in = axl::test::seeded_eager_input(b, seed);
  if (checkpointing) in.layer_runner = axl::train::checkpoint_every_layer(model);
  at::Tensor loss = axl::models::causal_lm_loss(model.forward(in).logits, b.labels);
  loss.backward();
  Pass p;
  p.grads = axl::test::take_grads(params);
  p.next_draw = at::rand({8}, at::kDouble);
  return p;
}

double max_abs_diff(const Pass& a, const Pass& b) {
  return axl::test::worst_gradient_diff(a.grads, b.grads, [](const at::Tensor& x, const at::Tensor& y) {
    return (x - y).abs().max().item<double>();
  });
}

TEST(GradientCheckpointing, LoraGradientsEqualThePlainRunInFloat64) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  CausalLM model = load_double(dir);
  auto adapter = attach_test_lora(model);
  std::vector<at::Tensor> params;
  for (auto& [name, t] : adapter.trainable()) params.push_back(t);
  ASSERT_EQ(params.size(), 2u * 7 * 2);  // 2 layers x 7 linear x (A, B)
  EXPECT_FALSE(model.embed.requires_grad());

  const Pass plain = forward_backward(model, params, false, 5);
  const Pass ckpt = forward_backward(model, params, true, 5);
  const double diff = max_abs_diff(plain, ckpt);
  EXPECT_LE(diff, 1e-12);
  EXPECT_TRUE(at::equal(plain.next_draw, ckpt.next_draw));  // the recompute left the RNG as it was
  // Dropout is really on: another seed gives other gradients (so the equality above says the
  // recompute drew the same masks).
  const Pass other = forward_backward(model, params, true, 6);
  EXPECT_GT(max_abs_diff(plain, other), 1e-6);
  std::printf("LoRA gradients, checkpointed vs plain: max abs diff %.3g over %zu tensors\n", diff, params.size());
}

TEST(GradientCheckpointing, FullFineTuneOfOneLayerEqualsThePlainRun) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  CausalLM model = load_double(dir);
  // Layer 0 trains; layer 1 is frozen but its input needs a gradient (a checkpoint with no
  // trainable tensor of its own).
  std::vector<at::Tensor> params = axl::train::trainable_tensors(model.layers[0]);
  EXPECT_TRUE(params.empty());
  for (auto* slot : model.layers[0].slots()) params.push_back(slot->base->dense_weight());
  params.push_back(model.layers[0].attn_norm.weight);
  params.push_back(model.layers[0].mlp_norm.weight);
  for (auto& t : params) t.requires_grad_(true);
  EXPECT_EQ(axl::train::trainable_tensors(model.layers[0]).size(), params.size());
  EXPECT_TRUE(axl::train::trainable_tensors(model.layers[1]).empty());

  const Pass plain = forward_backward(model, params, false, 5);
  const Pass ckpt = forward_backward(model, params, true, 5);
  const double diff = max_abs_diff(plain, ckpt);
  EXPECT_LE(diff, 1e-12);
  std::printf("full fine-tune gradients, checkpointed vs plain: max abs diff %.3g\n", diff);
}

TEST(GradientCheckpointing, TrainerWithCheckpointingReachesTheSameAdapter) {
  const auto* s = axl::test::stories_model("stories-train");
  if (!s) {
    if (axl::test::fixtures_required()) FAIL() << "missing fixture llama2c-stories260K";
    GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  }
  const std::string lora = "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_dropout: 0.1\nlora_target_linear: true\n"
                           "max_steps: 4\n";
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto plain = axl::train::prepare_run(axl::test::stories_config(*s, s->dir + "/plain", lora), opts);
  auto plain_summary = axl::train::train(*plain, opts);
  std::map<std::string, at::Tensor> want;
  for (auto& [name, t] : plain->adapter->state_dict()) want[name] = t.detach().clone();
  plain.reset();
  auto ckpt = axl::train::prepare_run(
      axl::test::stories_config(*s, s->dir + "/ckpt", lora + "gradient_checkpointing: true\n"), opts);
  EXPECT_TRUE(ckpt->cfg.gradient_checkpointing);
  auto ckpt_summary = axl::train::train(*ckpt, opts);
  EXPECT_EQ(plain_summary.last_loss, ckpt_summary.last_loss);
  auto got = ckpt->adapter->state_dict();
  double worst = 0;
  for (auto& [name, t] : want) worst = std::max(worst, (t - got.at(name)).abs().max().item<double>());
  EXPECT_EQ(worst, 0.0);
}

}  // namespace
