// VeRA: the shared projections regenerated exactly as PEFT draws them (checked against the
// fixture's stored vera_A / vera_B), the PEFT fixture through the shared method checks, the
// save_projection: false form, and fresh adapters on other architectures.
#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/peft/vera.h"
#include "tests/peft/fresh_adapter_check.h"
#include "tests/peft/method_fixture.h"

namespace {

TEST(VeraProjections, RegeneratedFromTheKeyBitForBitAsPeftDrewThem) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto stored = axl::load_safetensors(llama + "/methods/vera/adapter_model.safetensors");
  auto [a, b] = axl::peft::vera_projections(8, 128, 128, 0);
  EXPECT_TRUE(at::equal(a, stored.at("base_model.vera_A")));
  EXPECT_TRUE(at::equal(b, stored.at("base_model.vera_B")));
}

TEST(VeraFixture, MatchesPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, "vera");
  axl::test::expect_fixture_parity(f, "vera", 28);
}

TEST(VeraFixture, WithoutSavedProjectionsTheKeyRebuildsThem) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, "vera");
  auto model = axl::models::load_causal_lm(llama);
  auto adapter = axl::peft::load_adapter(model, f.adapter_dir);
  adapter.set_training(false);
  at::NoGradGuard ng;
  const at::Tensor logits = axl::test::logits_for(model, f.input_ids);
  dynamic_cast<axl::peft::VeraConfig&>(*adapter.config).save_projection = false;
  adapter.shared_tensors.clear();  // what attach does for save_projection: false
  const std::string out = axl::test::scratch_dir("vera_no_projection");
  axl::peft::save_adapter(adapter, out);
  auto stored = axl::load_safetensors(out + "/adapter_model.safetensors");
  EXPECT_EQ(stored.size(), 28u);
  EXPECT_EQ(stored.count("base_model.vera_A"), 0u);
  auto j = axl::read_json_file(out + "/adapter_config.json");
  EXPECT_EQ(j["save_projection"], false);
  EXPECT_FALSE(j.contains("exclude_modules"));
  auto fresh = axl::models::load_causal_lm(llama);
  auto again = axl::peft::load_adapter(fresh, out);
  EXPECT_TRUE(at::equal(axl::test::logits_for(fresh, f.input_ids), logits));
}

TEST(VeraConfig, SettingsAreChecked) {
  EXPECT_THROW(axl::peft::VeraConfig::from_json({{"r", 0}}, "test"), axl::Error);
  EXPECT_THROW(axl::peft::VeraConfig::from_json({{"vera_dropout", 1.5}}, "test"), axl::Error);
  EXPECT_THROW(axl::peft::VeraConfig::from_json({{"exclude_modules", {"q_proj"}}}, "test"), axl::Error);
  auto j = axl::peft::VeraConfig::from_json({{"r", 16}, {"d_initial", 0.2}}, "test").to_json();
  EXPECT_EQ(j["r"], 16);
  EXPECT_EQ(j["d_initial"], 0.2);
  EXPECT_EQ(j["projection_prng_key"], 0);
  EXPECT_EQ(j["save_projection"], true);
}

TEST(VeraFresh, AttachPerturbRoundTripAndMergeOnOtherArchitectures) {
  AXL_REQUIRE_FIXTURE(tiny, "hf-tiny");
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"LlamaForCausalLM", {{"peft_type", "VERA"}, {"r", 16}, {"target_modules", "all-linear"}}},
      {"Qwen2ForCausalLM", {{"peft_type", "VERA"}, {"r", 8}, {"target_modules", "all-linear"}}},
      {"GPT2LMHeadModel", {{"peft_type", "VERA"}, {"r", 8}, {"target_modules", {"c_attn", "c_fc", "c_proj"}}}},
      {"Phi3ForCausalLM", {{"peft_type", "VERA"}, {"r", 8}, {"save_projection", false}}},
  };
  for (const auto& [model, config] : cases) {
    const std::string tag = "vera_" + model;
    auto e = axl::test::check_fresh_adapter(tiny + "/" + model, config, tag, /*noise=*/0.5);
    EXPECT_GT(e.changed, 1e-3) << tag;
    EXPECT_LE(e.merged, 1e-4) << tag;
    std::printf("%s: logits change %.3f, merged %.2e\n", tag.c_str(), e.changed, e.merged);
  }
}

}  // namespace
