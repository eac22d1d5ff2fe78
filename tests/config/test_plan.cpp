// Parameter and trainable counts from config.json shapes, checked against transformers +
// PEFT (tests/peers/config_param_counts.py, transformers 5.14.1, peft 0.19.1), whose output was:
//   LlamaForCausalLM full: total 106816 trainable 106816
//   LlamaForCausalLM r=4,target_linear: total 106816 trainable 8192
//   LlamaForCausalLM r=8,target_modules=['q_proj', 'v_proj']: trainable 3584
//   LlamaForCausalLM r=4,target_linear,use_dora: trainable 9216
//   LlamaForCausalLM r=4,target_linear,modules_to_save=['embed_tokens', 'lm_head']: trainable 40960
//   MistralForCausalLM r=4,target_linear: total 106816 trainable 8192
//   Qwen2ForCausalLM r=4,target_linear: total 90688 trainable 8192
//   GemmaForCausalLM r=4,target_linear: total 115008 trainable 9728
//   Phi3ForCausalLM r=4,target_linear: total 106816 trainable 6656
//   GPT2LMHeadModel r=4,target_linear: total 124672 trainable 8192
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "axl/config/load_config.h"
#include "axl/config/plan.h"
#include "axl/core/error.h"
#include "tests/fixtures.h"

using testing::HasSubstr;

namespace {

axl::config::Plan plan_for(const std::string& model_dir, const std::string& extra) {
  std::string yaml = "base_model: " + model_dir + "\nlearning_rate: 1e-4\ndatasets: [{path: d.jsonl, type: alpaca}]\n" + extra;
  auto r = axl::config::load_config_text(yaml, "cfg.yml");
  return axl::config::make_plan(r.config, "cfg.yml");
}

const char* kLoraLinear = "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n";

}  // namespace

TEST(ConfigPlan, FullFineTuneCountsEveryParameter) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto p = plan_for(dir, "");
  EXPECT_EQ(p.params.total, 106816);
  EXPECT_EQ(p.params.trainable, 106816);
  EXPECT_EQ(p.architecture, "LlamaForCausalLM");
}

TEST(ConfigPlan, LoraCountsMatchPeft) {
  AXL_REQUIRE_FIXTURE(fix, "hf-tiny");
  struct Case {
    const char* family;
    int64_t total, trainable;
  };
  for (const Case& c : {Case{"LlamaForCausalLM", 106816, 8192}, Case{"MistralForCausalLM", 106816, 8192},
                        Case{"Qwen2ForCausalLM", 90688, 8192}, Case{"GemmaForCausalLM", 115008, 9728},
                        Case{"Phi3ForCausalLM", 106816, 6656}, Case{"GPT2LMHeadModel", 124672, 8192}}) {
    auto p = plan_for(fix + "/" + c.family, kLoraLinear);
    EXPECT_EQ(p.params.total, c.total) << c.family;
    EXPECT_EQ(p.params.trainable, c.trainable) << c.family;
  }
}

TEST(ConfigPlan, TargetsDoraAndModulesToSave) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto qv = plan_for(dir, "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_modules: [q_proj, v_proj]\n");
  EXPECT_EQ(qv.params.trainable, 3584);
  EXPECT_EQ(qv.params.targeted, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(qv.params.targeted_layers, 4);
  EXPECT_EQ(plan_for(dir, std::string(kLoraLinear) + "peft_use_dora: true\n").params.trainable, 9216);
  EXPECT_EQ(plan_for(dir, std::string(kLoraLinear) + "lora_modules_to_save: [embed_tokens, lm_head]\n").params.trainable,
            40960);
  // One string is a regular expression over full module names (PEFT).
  EXPECT_EQ(plan_for(dir, "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_modules: '.*\\.(q|v)_proj'\n").params.trainable,
            3584);
  try {
    plan_for(dir, "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_modules: [qkv_proj]\n");
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("matches no linear layer of this llama model; its linear layers are down_proj"));
  }
}

TEST(ConfigPlan, ModelTypeMustMatchTheCheckpoint) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  EXPECT_THROW(plan_for(dir, "model_type: MistralForCausalLM\n"), axl::Error);
  EXPECT_NO_THROW(plan_for(dir, "model_type: LlamaForCausalLM\n"));
}

TEST(ConfigPlan, HubIdThroughTheCacheWithRevision) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/Qwen2ForCausalLM");
  namespace fs = std::filesystem;
  fs::path cache = axl::test::scratch_dir("plan-hf-cache");
  fs::path repo = cache / "models--Qwen--Tiny";
  const std::string commit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "release") << commit;
  fs::create_directories(repo / "snapshots" / commit);
  fs::copy_file(dir + "/config.json", repo / "snapshots" / commit / "config.json");
  setenv("HF_HUB_CACHE", cache.c_str(), 1);
  auto r = axl::config::load_config_text(
      "base_model: Qwen/Tiny\nmodel_revision: release\nlearning_rate: 1\ndatasets: [{path: d}]\n", "cfg.yml");
  EXPECT_EQ(r.config.model.dir, (repo / "snapshots" / commit).string());
  EXPECT_EQ(axl::config::make_plan(r.config, "cfg.yml").params.total, 90688);
  try {
    axl::config::load_config_text("base_model: Qwen/Tiny\nlearning_rate: 1\ndatasets: [{path: d}]\n", "cfg.yml");
    FAIL() << "no refs/main, so no model";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cfg.yml:1:13: base_model 'Qwen/Tiny'"));
    EXPECT_THAT(e.what(), HasSubstr("models--Qwen--Tiny/refs/main"));
  }
  unsetenv("HF_HUB_CACHE");
}

TEST(ConfigPlan, ScheduleFromSampleCount) {
  axl::config::Config c;
  c.batch_size = 8;
  c.num_epochs = 3;
  auto s = axl::config::derive_schedule(c, 1000);  // ceil(1000/8) = 125 per epoch
  EXPECT_EQ(s.total_steps, 375);
  EXPECT_EQ(s.warmup_steps, 11);   // min(int(0.03 * 375), 100)
  EXPECT_EQ(s.logging_steps, 1);   // max(min(int(0.005 * 375), 10), 1)
  c.warmup_ratio = 0.1;
  c.max_steps = 50;
  s = axl::config::derive_schedule(c, 1000);
  EXPECT_EQ(s.total_steps, 50);
  EXPECT_EQ(s.warmup_steps, 5);
  c.warmup_ratio.reset();
  c.warmup_steps = 1;
  EXPECT_EQ(axl::config::derive_schedule(c, 1000).warmup_steps, 2);  // Axolotl turns 1 into 2
}

TEST(ConfigPlan, PlanTextNamesTheEssentials) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto r = axl::config::load_config_text("base_model: " + dir + "\nlearning_rate: 1e-4\ndatasets: [{path: d}]\n" +
                                             kLoraLinear + "micro_batch_size: 2\ngradient_accumulation_steps: 3\n"
                                             "attn_implementation: flash_attention_2\n",
                                         "cfg.yml");
  auto text = axl::config::format_plan(r.config, axl::config::make_plan(r.config, "cfg.yml"));
  EXPECT_THAT(text, HasSubstr("parameters: 106,816"));
  EXPECT_THAT(text, HasSubstr("trainable: 8,192"));
  EXPECT_THAT(text, HasSubstr("on 14 linear layers"));
  EXPECT_THAT(text, HasSubstr("attention: sdpa"));
  EXPECT_THAT(text, HasSubstr("= 6 samples per optimizer step"));
  auto yaml = axl::config::resolved_config_yaml(r.config);
  EXPECT_THAT(yaml, HasSubstr("gradient_accumulation_steps: 3  # batch_size: 6\n"));
  EXPECT_THAT(yaml, HasSubstr("adam_beta1: 0.9\n"));
}
