// The LoRA family against PEFT's fixtures through the shared method checks (method_fixture.h):
// plain LoRA, rsLoRA, LoRA with modules_to_save, DoRA; and DoRA on every hf-tiny architecture.
#include "tests/peft/method_fixture.h"

#include "axl/core/torch_compat.h"
#include "axl/peft/dora_layer.h"
#include "axl/peft/method_registry.h"

namespace {

using axl::test::max_abs_diff;

TEST(LoraFamilyFixtures, MatchPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  for (const std::string m : {"lora_rslora", "lora_modules_to_save"}) {
    auto f = axl::test::MethodFixture::methods_folder(llama, m);
    auto e = axl::test::check_method_fixture(f);
    EXPECT_LE(e.logits, 1e-4) << m;
    EXPECT_LE(e.loss, 1e-4) << m;
    EXPECT_LE(e.grads, 1e-4) << m;
    EXPECT_LE(e.merged, 1e-4) << m;
    EXPECT_GT(e.grad_count, 0u) << m;
    std::printf("%s: logits %.2e loss %.2e grads %.2e (%zu) merged %.2e\n", m.c_str(), e.logits, e.loss, e.grads,
                e.grad_count, e.merged);
  }
}

// dora/: logits, loss and all 42 gradients (lora_A, lora_B, lora_magnitude_vector), merge,
// unmerge, and `axolotl forward --grads`.
TEST(DoraFixture, MatchesPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::parent_folder(llama, "dora");
  axl::test::expect_fixture_parity(f, "dora", 42);
}

nlohmann::json dora_config(bool random_init) {
  return {{"peft_type", "LORA"}, {"r", 4}, {"lora_alpha", 8}, {"use_dora", true},
          {"init_lora_weights", !random_init}, {"target_modules", "all-linear"}};
}

at::Tensor ids() { return at::arange(3, 35, at::kLong).remainder(250).view({2, 16}); }

// A fresh DoRA adapter is what PEFT makes: m = ||W + s B A||, so it computes exactly LoRA.
TEST(Dora, FreshAdapterIsLoraWithTheSameInit) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto model = axl::models::load_causal_lm(llama);
  at::NoGradGuard no_grad;
  at::Tensor lora_logits, dora_logits;
  {
    nlohmann::json j = dora_config(true);
    j["use_dora"] = false;
    auto a = axl::peft::attach_adapter(model, j, "test", 5);
    lora_logits = axl::test::logits_for(model, ids());
  }
  {
    auto a = axl::peft::attach_adapter(model, dora_config(true), "test", 5);
    dora_logits = axl::test::logits_for(model, ids());
    auto sd = a.state_dict();
    EXPECT_TRUE(sd.count("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector"));
    EXPECT_EQ(sd.at("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector").sizes(), at::IntArrayRef({64}));
    EXPECT_EQ(a.config->to_json()["use_dora"], true);
  }
  const at::Tensor base = axl::test::logits_for(model, ids());
  EXPECT_GT(max_abs_diff(lora_logits, base), 1e-3);  // B is random: LoRA does something
  EXPECT_LE(max_abs_diff(dora_logits, lora_logits), 1e-5);
}

// Every hf-tiny architecture (Conv1D GPT-2, fused Phi-3, biased Qwen2, ...): a perturbed DoRA
// adapter changes the logits, saves and loads back identically, merges and unmerges exactly.
TEST(Dora, EveryArchitectureRoundTripsAndMerges) {
  AXL_REQUIRE_FIXTURE(root, "hf-tiny");
  for (const std::string arch : {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "GemmaForCausalLM",
                                 "Phi3ForCausalLM", "GPT2LMHeadModel"}) {
    SCOPED_TRACE(arch);
    const std::string dir = root + "/" + arch;
    auto model = axl::models::load_causal_lm(dir);
    at::NoGradGuard no_grad;
    const at::Tensor base = axl::test::logits_for(model, ids());
    auto a = axl::peft::attach_adapter(model, dora_config(true), "test", 11);
    at::Generator gen = axl::compat::make_cpu_generator(99);
    for (auto& l : a.layers) {
      auto* d = dynamic_cast<axl::peft::DoraLayer*>(l.layer.get());
      ASSERT_NE(d, nullptr);
      d->magnitude.mul_(1 + 0.2 * at::randn(d->magnitude.sizes(), gen));
    }
    const at::Tensor adapted = axl::test::logits_for(model, ids());
    EXPECT_TRUE(at::isfinite(adapted).all().item<bool>());
    EXPECT_GT(max_abs_diff(adapted, base), 1e-2);
    const std::string saved = axl::test::scratch_dir("dora_" + arch);
    axl::peft::save_adapter(a, saved);
    {
      auto fresh = axl::models::load_causal_lm(dir);
      auto again = axl::peft::load_adapter(fresh, saved);
      EXPECT_TRUE(at::equal(axl::test::logits_for(fresh, ids()), adapted));
    }
    a.merge();
    const double merged = max_abs_diff(axl::test::logits_for(model, ids()), adapted);
    EXPECT_LE(merged, 1e-4);
    a.unmerge();
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids()), adapted));
    a.detach();
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids()), base));
    std::printf("dora %s: merged vs adapter %.2e\n", arch.c_str(), merged);
  }
}

// Half-precision bases: adapter tensors stay float32, the output keeps the base dtype and
// matches the float32 model's closely; dropout acts only in training.
TEST(Dora, Bf16BaseAndDropout) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  axl::models::LoadOptions lo;
  lo.dtype = at::kBFloat16;
  auto half = axl::models::load_causal_lm(llama, lo);
  auto full = axl::models::load_causal_lm(llama);
  nlohmann::json j = dora_config(true);
  j["lora_dropout"] = 0.5;
  at::NoGradGuard no_grad;
  auto ah = axl::peft::attach_adapter(half, j, "test", 3);
  auto af = axl::peft::attach_adapter(full, j, "test", 3);
  for (auto& [k, t] : ah.state_dict()) EXPECT_EQ(t.scalar_type(), at::kFloat) << k;
  const at::Tensor lh = axl::test::logits_for(half, ids());
  EXPECT_EQ(lh.scalar_type(), at::kBFloat16);
  EXPECT_LE(max_abs_diff(lh, axl::test::logits_for(full, ids())), 0.1);
  const at::Tensor eval = axl::test::logits_for(full, ids());
  af.set_training(true);
  EXPECT_GT(max_abs_diff(axl::test::logits_for(full, ids()), eval), 1e-3);
  af.set_training(false);
  EXPECT_TRUE(at::equal(axl::test::logits_for(full, ids()), eval));
}

}  // namespace
