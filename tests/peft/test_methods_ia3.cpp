// (IA)^3 against PEFT: the fixture (hf-tiny Llama, ia3/) through the shared method checks, the
// config file PEFT 0.19.1 writes, PEFT's defaults (targets, feed-forward modules, ones), and
// merging a scaled bias (Qwen2's q/v projections) with an exact unmerge.
#include <cstdio>

#include "axl/core/error.h"
#include "axl/peft/ia3.h"
#include "tests/peft/attached_method.h"

namespace {

using axl::peft::Ia3Config;

TEST(Ia3Fixture, MatchesPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::parent_folder(llama, "ia3");
  axl::test::expect_fixture_parity(f, "ia3", 6);  // k_proj, v_proj, down_proj in two layers
}

TEST(Ia3Config, WritesPeft0191Fields) {
  auto c = Ia3Config::from_json({{"peft_type", "IA3"}, {"target_modules", {"k_proj", "down_proj"}},
                                 {"feedforward_modules", {"down_proj"}}},
                                "t");
  const nlohmann::json j = c.to_json();
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  // PEFT 0.19.1's IA3Config().save_pretrained field set, sorted.
  const std::vector<std::string> peft = {"auto_mapping",  "base_model_name_or_path", "exclude_modules",
                                         "fan_in_fan_out", "feedforward_modules",    "inference_mode",
                                         "init_ia3_weights", "modules_to_save",      "peft_type",
                                         "peft_version",  "revision",               "target_modules",
                                         "task_type"};
  EXPECT_EQ(keys, peft);
  EXPECT_EQ(j["feedforward_modules"], nlohmann::json({"down_proj"}));
  EXPECT_EQ(Ia3Config::from_json(j, "again").to_json(), j);
  // feedforward_modules must be a subset of target_modules (PEFT raises the same).
  EXPECT_THROW(Ia3Config::from_json({{"target_modules", {"k_proj"}}, {"feedforward_modules", {"down_proj"}}}, "t"),
               axl::Error);
  EXPECT_THROW(Ia3Config::from_json({{"feedforward_modules", "(["}}, "t"), axl::Error);
}

TEST(Ia3Attach, PeftDefaultsAreANoOp) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto model = axl::models::load_causal_lm(llama);
  const at::Tensor ids = axl::load_safetensors(llama + "/reference.safetensors").at("input_ids");
  at::NoGradGuard ng;
  const at::Tensor base = axl::test::logits_for(model, ids);
  auto a = axl::peft::attach_ia3(model, Ia3Config{}, 0);
  // Llama's defaults: k_proj, v_proj (output [out, 1]) and down_proj (input [1, in]).
  auto sd = a.state_dict();
  ASSERT_EQ(sd.size(), 6u);
  EXPECT_EQ(sd.at("base_model.model.model.layers.0.self_attn.k_proj.ia3_l").sizes(), (at::IntArrayRef{32, 1}));
  EXPECT_EQ(sd.at("base_model.model.model.layers.1.mlp.down_proj.ia3_l").sizes(), (at::IntArrayRef{1, 128}));
  for (auto& [k, t] : sd) EXPECT_TRUE(at::equal(t, at::ones_like(t))) << k;
  EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base));  // ones: a no-op
  const auto j = a.config->to_json();
  EXPECT_EQ(j["target_modules"].size(), 3u);
  EXPECT_EQ(j["feedforward_modules"], nlohmann::json({"down_proj"}));
}

TEST(Ia3Attach, PhiThreeNeedsExplicitTargets) {
  AXL_REQUIRE_FIXTURE(phi3, "hf-tiny/Phi3ForCausalLM");
  auto model = axl::models::load_causal_lm(phi3);
  EXPECT_THROW(axl::peft::attach_ia3(model, Ia3Config{}, 0), axl::Error);  // PEFT has no phi3 defaults
  auto c = Ia3Config::from_json({{"target_modules", {"qkv_proj", "down_proj"}}, {"feedforward_modules", {"down_proj"}}},
                                "t");
  auto a = axl::peft::attach_ia3(model, c, 0);
  EXPECT_EQ(a.state_dict().at("base_model.model.model.layers.0.self_attn.qkv_proj.ia3_l").sizes(),
            (at::IntArrayRef{128, 1}));  // fused q (64) + k (32) + v (32) rows
}

// Qwen2's q/v projections and GPT-2's c_attn carry biases: an output vector scales them, and
// merging must scale them too.
TEST(Ia3Attach, DefaultsMergeWithBiasesOnOtherArchitectures) {
  for (const std::string arch : {"Qwen2ForCausalLM", "MistralForCausalLM", "GemmaForCausalLM", "GPT2LMHeadModel"}) {
    AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + arch);
    // The vectors start at one; 1 + 0.2 N(0, 1) as the fixture's were.
    auto e = axl::test::check_attached_method(dir, {{"peft_type", "IA3"}}, "ia3_l", 0.2, "ia3_" + arch,
                                              /*perturb_add=*/true);
    EXPECT_GT(e.changed, 1e-3) << arch;
    EXPECT_LE(e.merged, 1e-4) << arch;
    EXPECT_GE(e.merged, 0) << arch;
    std::printf("ia3 %s: changed %.3f merged %.2e (%s)\n", arch.c_str(), e.changed, e.merged, e.saved.c_str());
  }
}

}  // namespace
