// LoraConfig and attaching: adapter_config.json in PEFT 0.19.1's exact field set, PEFT's
// target matching (list suffix, full-match regex, all-linear, layers_to_transform), the
// initialisations, dropout on the LoRA input only, and the trainable-parameter count.
#include <gtest/gtest.h>

#include <cmath>

#include "axl/core/error.h"
#include "axl/models/loader.h"
#include "axl/models/model_config.h"
#include "axl/peft/lora.h"
#include "axl/peft/lora_layer.h"
#include "tests/fixtures.h"

namespace {

using axl::peft::LoraConfig;
using axl::peft::TargetModules;

TEST(LoraConfigJson, WritesPeft0191FieldsAndDefaults) {
  LoraConfig c;
  c.r = 4;
  c.lora_alpha = 8;
  c.target_modules = TargetModules::from_json(nlohmann::json::array({"q_proj", "v_proj"}), "test");
  nlohmann::json j = c.to_json();
  // The key set of LoraConfig(r=4, lora_alpha=8, target_modules=[...], task_type="CAUSAL_LM")
  // .save_pretrained() in PEFT 0.19.1.
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> expected = {
      "alora_invocation_tokens", "alpha_pattern", "arrow_config", "auto_mapping", "base_model_name_or_path",
      "bias", "corda_config", "ensure_weight_tying", "eva_config", "exclude_modules", "fan_in_fan_out",
      "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform",
      "loftq_config", "lora_alpha", "lora_bias", "lora_dropout", "lora_ga_config", "megatron_config",
      "megatron_core", "modules_to_save", "peft_type", "peft_version", "qalora_group_size", "r",
      "rank_pattern", "revision", "target_modules", "target_parameters", "task_type",
      "trainable_token_indices", "use_bdlora", "use_dora", "use_qalora", "use_rslora"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["task_type"], "CAUSAL_LM");
  EXPECT_EQ(j["r"], 4);
  EXPECT_EQ(j["lora_alpha"].dump(), "8");  // an integer, as PEFT writes it
  EXPECT_EQ(j["lora_dropout"].dump(), "0.0");
  EXPECT_EQ(j["init_lora_weights"], true);
  EXPECT_EQ(j["inference_mode"], true);
  EXPECT_EQ(j["bias"], "none");
  EXPECT_EQ(j["target_modules"], nlohmann::json::array({"q_proj", "v_proj"}));
  EXPECT_EQ(j["layers_to_transform"], nullptr);
  EXPECT_EQ(j["loftq_config"], nlohmann::json::object());
  EXPECT_EQ(j.dump(2).substr(0, 36), "{\n  \"alora_invocation_tokens\": null,");

  // Round trip, with a regex target, rsLoRA and a layer filter.
  nlohmann::json in = {{"peft_type", "LORA"}, {"r", 16}, {"lora_alpha", 32}, {"use_rslora", true},
                       {"lora_dropout", 0.05}, {"target_modules", ".*\\.(q|v)_proj"},
                       {"layers_to_transform", {1}}, {"init_lora_weights", "gaussian"}};
  LoraConfig back = LoraConfig::from_json(in, "in.json");
  EXPECT_EQ(back.r, 16);
  EXPECT_DOUBLE_EQ(back.scaling_for("model.layers.1.self_attn.q_proj"), 32.0 / 4.0);  // alpha / sqrt(r)
  nlohmann::json out = back.to_json();
  EXPECT_EQ(out["target_modules"], ".*\\.(q|v)_proj");
  EXPECT_EQ(out["layers_to_transform"], nlohmann::json::array({1}));
  EXPECT_EQ(out["init_lora_weights"], "gaussian");
  EXPECT_EQ(out["use_rslora"], true);
  EXPECT_DOUBLE_EQ(out["lora_dropout"].get<double>(), 0.05);
}

TEST(LoraConfigJson, RefusesWhatIsNotImplemented) {
  auto fails_with = [](nlohmann::json j, const std::string& needle) {
    j["peft_type"] = "LORA";
    try {
      LoraConfig::from_json(j, "adapter_config.json");
      ADD_FAILURE() << j.dump() << " accepted";
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("adapter_config.json"), std::string::npos) << e.what();
    }
  };
  fails_with({{"bias", "all"}}, "bias");
  fails_with({{"init_lora_weights", "pissa"}}, "pissa");
  fails_with({{"lora_bias", true}}, "lora_bias");
  fails_with({{"r", 0}}, "r must be positive");
  fails_with({{"r", "four"}}, "bad LoRA setting");
  fails_with({{"target_modules", "(unclosed"}}, "invalid regular expression");
}

TEST(TargetModules, MatchesAsPeft) {
  auto list = TargetModules::from_json(nlohmann::json::array({"q_proj", "mlp.down_proj"}), "t");
  EXPECT_TRUE(list.matches("model.layers.0.self_attn.q_proj", false));
  EXPECT_TRUE(list.matches("q_proj", false));
  EXPECT_FALSE(list.matches("model.layers.0.self_attn.xq_proj", false));
  EXPECT_TRUE(list.matches("model.layers.3.mlp.down_proj", false));
  EXPECT_FALSE(list.matches("model.layers.3.other_mlp_down_proj", false));
  auto re = TargetModules::from_json(".*\\.1\\.self_attn\\.(q|k)_proj", "t");
  EXPECT_TRUE(re.matches("model.layers.1.self_attn.k_proj", false));
  EXPECT_FALSE(re.matches("model.layers.1.self_attn.k_proj_extra", false));  // full match only
  EXPECT_FALSE(re.matches("model.layers.0.self_attn.k_proj", false));
  auto all = TargetModules::from_json("all-linear", "t");
  EXPECT_TRUE(all.matches("model.layers.0.mlp.up_proj", false));
  EXPECT_FALSE(all.matches("lm_head", true));
  list.layers_to_transform = {1};
  EXPECT_FALSE(list.matches("model.layers.0.self_attn.q_proj", false));
  EXPECT_TRUE(list.matches("model.layers.1.self_attn.q_proj", false));
  EXPECT_EQ(axl::peft::layer_index("transformer.h.12.attn.c_attn", std::nullopt), 12);
  EXPECT_EQ(axl::peft::layer_index("model.layers.7.mlp.up_proj", std::string("layers")), 7);
}

TEST(LoraAttach, TargetsInitDropoutAndTrainableCount) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto model = axl::models::load_causal_lm(dir);
  at::Tensor ids = at::arange(32, at::kLong).view({2, 16});
  axl::models::ForwardInput in;
  in.input_ids = ids;
  at::NoGradGuard ng;
  at::Tensor base = model.forward(in).logits;

  LoraConfig c;
  c.r = 4;
  c.lora_alpha = 8;
  c.target_modules = TargetModules::from_json("all-linear", "t");
  {
    auto a = axl::peft::attach_lora(model, c, 1);
    EXPECT_EQ(a.layers.size(), 14u);  // 7 projections x 2 layers, never lm_head
    EXPECT_EQ(a.trainable_count(), 8192);
    EXPECT_EQ(a.trainable().size(), 28u);
    // PEFT's default init: B = 0, so the adapter is a no-op; A ~ U(+-1/sqrt(in)).
    EXPECT_TRUE(at::equal(model.forward(in).logits, base));
    for (auto& l : a.layers) {
      auto* lora = dynamic_cast<axl::peft::LoraLayer*>(l.layer.get());
      ASSERT_NE(lora, nullptr);
      const double bound = 1.0 / std::sqrt(static_cast<double>(lora->lora_a.size(1)));
      EXPECT_LE(lora->lora_a.abs().max().item<double>(), bound);
      EXPECT_GT(lora->lora_a.abs().max().item<double>(), 0.8 * bound);
      EXPECT_EQ(lora->lora_b.abs().max().item<double>(), 0.0);
      EXPECT_DOUBLE_EQ(lora->scaling, 2.0);
    }
  }
  c.target_modules = TargetModules::from_json(nlohmann::json::array({"q_proj", "v_proj"}), "t");
  c.target_modules->layers_to_transform = {1};
  c.init = axl::peft::LoraInit::Gaussian;
  c.r = 8;
  {
    auto a = axl::peft::attach_lora(model, c, 2);
    ASSERT_EQ(a.layers.size(), 2u);
    EXPECT_EQ(a.layers[0].slot->name, "model.layers.1.self_attn.q_proj");
    auto* lora = dynamic_cast<axl::peft::LoraLayer*>(a.layers[0].layer.get());
    EXPECT_NEAR(lora->lora_a.std().item<double>(), 1.0 / 8, 0.02);  // N(0, 1/r)
  }
  // init_lora_weights false: both factors random, so the adapter changes the logits; dropout
  // then changes them in training mode only.
  c.init = axl::peft::LoraInit::Random;
  c.lora_dropout = 0.5;
  c.target_modules = TargetModules::from_json("all-linear", "t");
  {
    auto a = axl::peft::attach_lora(model, c, 3);
    at::Tensor eval = model.forward(in).logits;
    EXPECT_GT((eval - base).abs().max().item<double>(), 1e-3);
    a.set_training(true);
    at::Tensor train = model.forward(in).logits;
    EXPECT_GT((train - eval).abs().max().item<double>(), 1e-3);
    a.set_training(false);
    EXPECT_TRUE(at::equal(model.forward(in).logits, eval));
  }
  // Detached on destruction: the base model is back.
  EXPECT_TRUE(at::equal(model.forward(in).logits, base));

  c.target_modules = TargetModules::from_json(nlohmann::json::array({"nope_proj"}), "t");
  EXPECT_THROW(axl::peft::attach_lora(model, c, 0), axl::Error);
  c.target_modules.reset();
  c.modules_to_save = {"nope_module"};
  EXPECT_THROW(axl::peft::attach_lora(model, c, 0), axl::Error);
  // The input embeddings are a module to save too (new tokens train through them).
  c.modules_to_save = {"embed_tokens"};
  const at::Tensor embed = model.embed;
  {
    auto a = axl::peft::attach_lora(model, c, 0);
    ASSERT_TRUE(a.saved_embedding);
    EXPECT_TRUE(a.state_dict().count("base_model.model.model.embed_tokens.weight"));
    EXPECT_NE(model.embed.data_ptr(), embed.data_ptr());  // a trainable copy serves the model
    EXPECT_TRUE(model.embed.requires_grad());
  }
  EXPECT_EQ(model.embed.data_ptr(), embed.data_ptr());  // detached: the original is back
}

}  // namespace
