// Every real Axolotl example config in the fixtures, with base_model and the first dataset
// pointed at local fixtures: it validates, or stops with one line naming the first
// unsupported key (file order). Overriding that key then shows what is left.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "axl/config/load_config.h"
#include "axl/config/plan.h"
#include "axl/core/error.h"
#include "tests/fixtures.h"

using testing::HasSubstr;

namespace {

struct RealConfig {
  const char* file;
  const char* model;         // hf-tiny family of the same kind
  const char* stops_at;      // "`key: value` is not supported", or "" when it validates
};

const RealConfig kConfigs[] = {
    {"examples__gemma3__gemma-3-1b-qlora.yml", "GemmaForCausalLM", "`unfrozen_parameters: "},
    {"examples__llama-3__instruct-dpo-lora-8b.yml", "LlamaForCausalLM", "`rl: dpo`"},
    {"examples__llama-3__lora-1b.yml", "LlamaForCausalLM", ""},  // adamw_8bit is implemented
    {"examples__llama-3__qlora-1b.yml", "LlamaForCausalLM", ""},  // QLoRA is implemented
    {"examples__mistral__config.yml", "MistralForCausalLM", ""},  // adamw_bnb_8bit is implemented
    {"examples__phi__phi3-ft.yml", "Phi3ForCausalLM", "`eval_table_size: 2`"},
    {"examples__qwen2__dpo.yaml", "Qwen2ForCausalLM", "`rl: dpo`"},
    {"examples__streaming__pretrain.yaml", "LlamaForCausalLM", ""},  // streaming is implemented
};

std::string try_load(const std::string& path, std::vector<std::string> overrides) {
  try {
    axl::config::LoadOptions o;
    o.overrides = std::move(overrides);
    auto r = axl::config::load_config(path, o);
    axl::config::make_plan(r.config, path);
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> local(const std::string& fix, const RealConfig& c) {
  return {"--base-model", fix + "/hf-tiny/" + c.model, "--datasets.0.path=" + fix + "/datasets/alpaca/stanford_alpaca_data_1k.json"};
}

}  // namespace

TEST(RealConfigs, EachValidatesOrNamesOneUnsupportedKey) {
  AXL_REQUIRE_FIXTURE(fix_configs, "axolotl-configs");
  const std::string fix = axl::test::fixtures_dir();
  for (const auto& c : kConfigs) {
    std::string err = try_load(fix_configs + "/" + c.file, local(fix, c));
    if (std::string(c.stops_at).empty()) {
      EXPECT_EQ(err, "") << c.file;
    } else {
      EXPECT_THAT(err, HasSubstr(std::string(c.stops_at))) << c.file;
      EXPECT_THAT(err, HasSubstr("is not supported by axolotl-cpp")) << c.file;
      EXPECT_THAT(err, HasSubstr(c.file)) << "the error names the file";
      EXPECT_EQ(err.find('\n'), std::string::npos) << c.file;
    }
  }
}

TEST(RealConfigs, WithTheUnsupportedKeysTurnedOffTheyValidate) {
  AXL_REQUIRE_FIXTURE(fix_configs, "axolotl-configs");
  const std::string fix = axl::test::fixtures_dir();
  auto with = [&](const RealConfig& c, std::vector<std::string> more) {
    auto o = local(fix, c);
    o.insert(o.end(), more.begin(), more.end());
    return try_load(fix_configs + "/" + c.file, o);
  };
  EXPECT_EQ(with(kConfigs[2], {"--optimizer", "adamw_torch"}), "");  // llama-3 lora-1b
  EXPECT_EQ(with(kConfigs[4], {"--optimizer", "adamw_torch"}), "");  // mistral
  EXPECT_EQ(with(kConfigs[3], {"--no-load-in-4bit", "--adapter", "lora", "--optimizer", "adamw_torch"}), "");
  EXPECT_EQ(with(kConfigs[5], {"--eval-table-size", "0", "--eval-max-new-tokens", "0", "--eval-causal-lm-metrics",
                               "[]", "--no-do-causal-lm-eval", "--no-resize-token-embeddings-to-32x"}),
            "");  // phi3-ft
  // gemma3: QLoRA and partial freezing.
  EXPECT_EQ(with(kConfigs[0], {"--no-load-in-4bit", "--adapter", "lora", "--unfrozen-parameters", "[]", "--optimizer",
                               "adamw_torch"}),
            "");
}

TEST(RealConfigs, LoraOneBPlanAndDerivedValues) {
  AXL_REQUIRE_FIXTURE(fix_configs, "axolotl-configs");
  const std::string fix = axl::test::fixtures_dir();
  axl::config::LoadOptions o;
  o.overrides = local(fix, kConfigs[2]);
  o.overrides.push_back("--optimizer=adamw_torch");
  auto r = axl::config::load_config(fix_configs + "/" + kConfigs[2].file, o);
  const auto& c = r.config;
  EXPECT_EQ(c.batch_size, 4);  // micro 2 x accumulation 2
  EXPECT_EQ(c.eval_batch_size, 2);
  // saves_per_epoch 1 x num_epochs 1 gives 1/1, which is not < 1: Axolotl sets no save_steps
  // (saves at the end); evals_per_epoch 4 gives eval_steps 0.25.
  EXPECT_FALSE(c.save_steps.has_value());
  ASSERT_TRUE(c.eval_steps.has_value());
  EXPECT_DOUBLE_EQ(*c.eval_steps, 0.25);
  EXPECT_EQ(c.warmup_ratio, std::optional<double>(0.1));
  EXPECT_EQ(c.attention_path, "sdpa");
  EXPECT_EQ(c.attn_requested, "flash_attention_2");
  EXPECT_TRUE(c.pad_to_sequence_len);  // sample_packing: true
  EXPECT_EQ(c.special_tokens.pad_token, std::optional<std::string>("<|end_of_text|>"));
  // r=16 on all seven projections of the tiny Llama (hidden 64, kv 32, mlp 128): per layer
  // 16 * (128 + 96 + 96 + 128 + 192 + 192 + 192) = 16384, two layers.
  EXPECT_EQ(axl::config::make_plan(c, "x").params.trainable, 32768);
}
