// LoHa and LoKr against PEFT: the fixtures (hf-tiny Llama, methods/loha and methods/lokr,
// written by PEFT 0.12) through the shared method checks; the config files PEFT 0.19.1 writes;
// LoKr's factorisation, decomposition rule and the 0.12 -> 0.19.1 scaling change; PEFT's
// initialisation (a no-op); rank/module dropout; LoHa on Qwen2 and Mistral without a fixture.
#include <cstdio>

#include "axl/core/error.h"
#include "axl/peft/loha.h"
#include "axl/peft/lokr.h"
#include "tests/peft/attached_method.h"

namespace {

using axl::peft::LohaConfig;
using axl::peft::LokrConfig;

std::vector<std::string> keys_of(const nlohmann::json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

TEST(LycorisFixtures, MatchPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  for (const std::string m : {"loha", "lokr"}) {
    auto f = axl::test::MethodFixture::methods_folder(llama, m);
    axl::test::expect_fixture_parity(f, m, m == "loha" ? 56u : 34u);
  }
}

TEST(LycorisConfig, WritesPeft0191Fields) {
  const std::vector<std::string> loha = {
      "alpha",         "alpha_pattern",      "auto_mapping", "base_model_name_or_path", "exclude_modules",
      "inference_mode", "init_weights",      "layers_pattern", "layers_to_transform",   "module_dropout",
      "modules_to_save", "peft_type",        "peft_version", "r",                       "rank_dropout",
      "rank_pattern",  "revision",           "target_modules", "task_type",             "use_effective_conv2d"};
  auto h = LohaConfig::from_json({{"peft_type", "LOHA"}, {"r", 4}, {"alpha", 8}, {"target_modules", {"q_proj"}}}, "t");
  EXPECT_EQ(keys_of(h.to_json()), loha);
  EXPECT_EQ(h.to_json()["alpha"], 8);  // whole alphas as integers, as PEFT writes them
  EXPECT_EQ(LohaConfig::from_json(h.to_json(), "again").to_json(), h.to_json());

  std::vector<std::string> lokr = loha;
  for (const char* k : {"decompose_both", "decompose_factor", "rank_dropout_scale"}) lokr.push_back(k);
  std::sort(lokr.begin(), lokr.end());
  auto k = LokrConfig::from_json({{"peft_type", "LOKR"}, {"peft_version", "0.19.1"}, {"r", 4}, {"alpha", 16},
                                  {"init_weights", "lycoris"}},
                                 "t");
  EXPECT_EQ(keys_of(k.to_json()), lokr);
  EXPECT_EQ(k.to_json()["init_weights"], "lycoris");
  EXPECT_EQ(k.scaling_for("model.layers.0.self_attn.q_proj"), 4.0);
  EXPECT_THROW(LohaConfig::from_json({{"r", 0}}, "t"), axl::Error);
  EXPECT_THROW(LohaConfig::from_json({{"init_weights", "lycoris"}}, "t"), axl::Error);  // LoKr only
  EXPECT_THROW(LokrConfig::from_json({{"rank_dropout", 1.5}}, "t"), axl::Error);
}

// PEFT 0.12 applied no alpha / r factor to LoKr; such a file reads as alpha = r, so the saved
// 0.19.1 file computes the same function in the live PEFT.
TEST(LycorisConfig, LokrFromPeft012KeepsItsFunction) {
  const nlohmann::json old = {{"peft_type", "LOKR"}, {"inference_mode", true}, {"r", 4}, {"alpha", 8}, {"rank_pattern", {{"k_proj", 2}}},
                              {"alpha_pattern", {{"q_proj", 32}}}, {"rank_dropout", 0.1}};
  auto c = LokrConfig::from_json(old, "t");
  EXPECT_EQ(c.scaling_for("model.layers.0.self_attn.q_proj"), 1.0);
  EXPECT_EQ(c.scaling_for("model.layers.0.self_attn.k_proj"), 1.0);
  EXPECT_TRUE(c.rank_dropout_scale);  // 0.12 always rescaled the kept rows
  const nlohmann::json j = c.to_json();
  EXPECT_EQ(j["alpha"], 4);
  EXPECT_EQ(j["alpha_pattern"], nlohmann::json({{"k_proj", 2}}));
  EXPECT_EQ(j["peft_version"], "0.19.1");
  EXPECT_EQ(LokrConfig::from_json(j, "again").scaling_for("x.q_proj"), 1.0);
  // A current file keeps its alpha.
  nlohmann::json now = old;
  now["peft_version"] = "0.19.1";
  EXPECT_EQ(LokrConfig::from_json(now, "t").scaling_for("model.layers.0.self_attn.v_proj"), 2.0);
  EXPECT_FALSE(LokrConfig::from_json(now, "t").rank_dropout_scale);
  // The JSON training builds from YAML (never saved: no inference_mode) is the current form.
  nlohmann::json built = old;
  built.erase("inference_mode");
  EXPECT_EQ(LokrConfig::from_json(built, "t").scaling_for("model.layers.0.self_attn.v_proj"), 2.0);
}

TEST(LokrFactorization, AsPeft) {
  using axl::peft::lokr_factorization;
  using P = std::pair<int64_t, int64_t>;
  EXPECT_EQ(lokr_factorization(256), (P{16, 16}));
  EXPECT_EQ(lokr_factorization(128), (P{8, 16}));
  EXPECT_EQ(lokr_factorization(127), (P{1, 127}));
  EXPECT_EQ(lokr_factorization(128, 4), (P{4, 32}));
  EXPECT_EQ(lokr_factorization(32), (P{4, 8}));
  EXPECT_EQ(lokr_factorization(18), (P{3, 6}));
  EXPECT_EQ(lokr_factorization(4864), (P{64, 76}));  // Qwen2-0.5B's MLP width
  EXPECT_EQ(lokr_factorization(96, 5), (P{4, 24}));  // 5 does not divide: largest m <= 5
}

TEST(LycorisAttach, PeftInitIsANoOpAndShapesFollowTheRules) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto model = axl::models::load_causal_lm(llama);
  const at::Tensor ids = axl::load_safetensors(llama + "/reference.safetensors").at("input_ids");
  at::NoGradGuard ng;
  const at::Tensor base = axl::test::logits_for(model, ids);
  const std::string q = "base_model.model.model.layers.0.self_attn.q_proj.";
  const std::string down = "base_model.model.model.layers.0.mlp.down_proj.";
  {
    auto a = axl::peft::attach_loha(model, LohaConfig::from_json({{"r", 4}}, "t"), 1);
    EXPECT_EQ(a.layers.size(), 4u);  // Llama's defaults (PEFT's LoRA table): q_proj, v_proj
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base));
    auto sd = a.state_dict();
    EXPECT_EQ(sd.at(q + "hada_w1_a").sizes(), (at::IntArrayRef{64, 4}));
    EXPECT_EQ(sd.at(q + "hada_w2_b").sizes(), (at::IntArrayRef{4, 64}));
    EXPECT_EQ(sd.at(q + "hada_w2_b").abs().max().item<float>(), 0.f);
    EXPECT_LE(sd.at(q + "hada_w1_b").abs().max().item<float>(), 1 / 8.f);  // U(-1/sqrt(64), 1/sqrt(64))
  }
  {
    // r 4 on down_proj [64, 128]: out 64 = 8 x 8, in 128 = 8 x 16; w2 [8, 16] is decomposed
    // (4 < 16 / 2), and with decompose_both w1 [8, 8] is not (4 < 8 / 2 fails).
    auto c = LokrConfig::from_json({{"peft_version", "0.19.1"}, {"r", 4}, {"alpha", 8}, {"decompose_both", true},
                                    {"target_modules", {"q_proj", "down_proj"}}},
                                   "t");
    auto a = axl::peft::attach_lokr(model, c, 1);
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base));
    auto sd = a.state_dict();
    EXPECT_EQ(sd.at(down + "lokr_w1").sizes(), (at::IntArrayRef{8, 8}));
    EXPECT_EQ(sd.at(down + "lokr_w2_a").sizes(), (at::IntArrayRef{8, 4}));
    EXPECT_EQ(sd.at(down + "lokr_w2_b").sizes(), (at::IntArrayRef{4, 16}));
    EXPECT_EQ(sd.at(q + "lokr_w2").sizes(), (at::IntArrayRef{8, 8}));
    EXPECT_EQ(sd.count(down + "lokr_w2"), 0u);
    EXPECT_EQ(sd.at(q + "lokr_w1").abs().max().item<float>(), 0.f);  // w1 zero: a no-op
  }
  {
    // r 1 with decompose_both: w1 [8, 8] becomes w1_a [8, 1] @ w1_b [1, 8] (1 < 8 / 2).
    auto c = LokrConfig::from_json({{"peft_version", "0.19.1"}, {"r", 1}, {"decompose_both", true},
                                    {"init_weights", "lycoris"}, {"target_modules", {"q_proj"}}},
                                   "t");
    auto a = axl::peft::attach_lokr(model, c, 1);
    auto sd = a.state_dict();
    EXPECT_EQ(sd.at(q + "lokr_w1_a").sizes(), (at::IntArrayRef{8, 1}));
    EXPECT_EQ(sd.at(q + "lokr_w1_b").sizes(), (at::IntArrayRef{1, 8}));
    EXPECT_EQ(sd.at(q + "lokr_w2_b").abs().max().item<float>(), 0.f);  // "lycoris": w2 side zero
    EXPECT_GT(sd.at(q + "lokr_w1_a").abs().max().item<float>(), 0.f);
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base));
  }
  EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base));
}

TEST(LycorisDropout, RankDropoutDropsAndRescalesRows) {
  at::manual_seed(0);
  const at::Tensor delta = at::randn({64, 8});
  const at::Tensor d = axl::peft::drop_delta_rows(delta, 0.5, /*rescale=*/true);
  int64_t kept = 0;
  for (int64_t i = 0; i < 64; ++i) kept += d[i].abs().sum().item<float>() > 0;
  ASSERT_GT(kept, 0);
  ASSERT_LT(kept, 64);
  const double factor = 64.0 / static_cast<double>(kept);  // 1 / mean of the keep mask
  for (int64_t i = 0; i < 64; ++i)
    if (d[i].abs().sum().item<float>() > 0) {
      EXPECT_TRUE(at::allclose(d[i], delta[i] * factor)) << i;
    }
  const at::Tensor plain = axl::peft::drop_delta_rows(delta, 0.5, /*rescale=*/false);
  for (int64_t i = 0; i < 64; ++i)
    if (plain[i].abs().sum().item<float>() > 0) {
      EXPECT_TRUE(at::equal(plain[i], delta[i])) << i;
    }
}

TEST(LycorisDropout, ModuleDropoutSkipsTheAdapterOnlyInTraining) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto model = axl::models::load_causal_lm(llama);
  const at::Tensor ids = axl::load_safetensors(llama + "/reference.safetensors").at("input_ids");
  at::NoGradGuard ng;
  const at::Tensor base = axl::test::logits_for(model, ids);
  for (const std::string type : {"LOHA", "LOKR"}) {
    auto a = axl::peft::attach_adapter(model, {{"peft_type", type}, {"peft_version", "0.19.1"},
                                               {"init_weights", false}, {"module_dropout", 1.0}},
                                       "t", 2);
    a.set_training(true);
    EXPECT_TRUE(at::equal(axl::test::logits_for(model, ids), base)) << type;  // every module dropped
    a.set_training(false);
    EXPECT_GT(axl::test::max_abs_diff(axl::test::logits_for(model, ids), base), 1e-3) << type;
  }
}

// bf16 and fp16 bases (IA3 too): adapter tensors stay float32, outputs keep the base dtype and
// stay close to PEFT's float32 reference; merging keeps the base dtype, unmerging is exact.
TEST(LycorisAttach, HalfPrecisionBasesForIa3LohaLokr) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  const auto ref = axl::load_safetensors(llama + "/reference.safetensors");
  for (const auto dtype : {at::kBFloat16, at::kHalf}) {
    axl::models::LoadOptions lo;
    lo.dtype = dtype;
    auto model = axl::models::load_causal_lm(llama, lo);
    at::NoGradGuard ng;
    for (const std::string m : {"ia3", "methods/loha", "methods/lokr"}) {
      auto a = axl::peft::load_adapter(model, llama + "/" + m);
      for (auto& [k, t] : a.state_dict()) EXPECT_EQ(t.scalar_type(), at::kFloat) << k;
      const at::Tensor expected = m == "ia3" ? ref.at("ia3_logits")
                                             : axl::load_safetensors(llama + "/" + m + "/reference.safetensors").at("logits");
      const at::Tensor logits = axl::test::logits_for(model, ref.at("input_ids"));
      EXPECT_EQ(logits.scalar_type(), dtype) << m;
      const double err = axl::test::max_abs_diff(logits, expected);
      EXPECT_LE(err, 0.1) << m;
      a.merge();
      EXPECT_EQ(a.layers[0].slot->base->dense_weight().scalar_type(), dtype) << m;
      const double merged = axl::test::max_abs_diff(axl::test::logits_for(model, ref.at("input_ids")), logits);
      EXPECT_LE(merged, 0.1) << m;
      a.unmerge();
      EXPECT_TRUE(at::equal(axl::test::logits_for(model, ref.at("input_ids")), logits)) << m;
      std::printf("%s %s: vs PEFT float32 %.2e, merged vs adapter %.2e\n", c10::toString(dtype), m.c_str(), err,
                  merged);
    }
  }
}

// No fixture on these: PEFT's init plus a perturbed hada_w2_b, then the generic checks.
TEST(LycorisAttach, LohaAndLokrOnOtherArchitectures) {
  for (const std::string arch : {"Qwen2ForCausalLM", "MistralForCausalLM", "GemmaForCausalLM", "Phi3ForCausalLM"}) {
    AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + arch);
    const nlohmann::json targets = arch == "Phi3ForCausalLM" ? nlohmann::json({"qkv_proj", "gate_up_proj", "down_proj"})
                                                              : nlohmann::json("all-linear");
    auto h = axl::test::check_attached_method(
        dir, {{"peft_type", "LOHA"}, {"r", 4}, {"alpha", 8}, {"target_modules", targets}}, "hada_w2_b", 0.2,
        "loha_" + arch);
    EXPECT_GT(h.changed, 1e-3) << arch;
    EXPECT_LE(h.merged, 1e-4) << arch;
    EXPECT_GE(h.merged, 0) << arch;
    auto k = axl::test::check_attached_method(
        dir, {{"peft_type", "LOKR"}, {"peft_version", "0.19.1"}, {"r", 4}, {"alpha", 8}, {"target_modules", targets}},
        "lokr_w1", 0.05, "lokr_" + arch);
    EXPECT_GT(k.changed, 1e-3) << arch;
    EXPECT_LE(k.merged, 1e-4) << arch;
    EXPECT_GE(k.merged, 0) << arch;
    std::printf("%s: loha changed %.3f merged %.2e (%s); lokr changed %.3f merged %.2e (%s)\n", arch.c_str(),
                h.changed, h.merged, h.saved.c_str(), k.changed, k.merged, k.saved.c_str());
  }
}

}  // namespace
