// OFT and BOFT: the orthogonal blocks (Cayley transform, PEFT's Neumann series, packing), the
// PEFT 0.12 fixtures through the shared method checks, PEFT 0.19.1's OFT format and fresh
// adapters on other architectures (Qwen2 with biases, GPT-2's Conv1D layers, Phi-3's fused
// projections).
#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/peft/boft.h"
#include "axl/peft/cayley.h"
#include "axl/peft/oft.h"
#include "tests/peft/fresh_adapter_check.h"
#include "tests/peft/method_fixture.h"

namespace {

using axl::test::max_abs_diff;

at::Tensor random_skew(int64_t n, int64_t b, double scale) {
  at::Generator gen = axl::compat::make_cpu_generator(1);
  at::Tensor m = at::randn({n, b, b}, gen, at::kDouble) * scale;
  return m - m.transpose(-2, -1);
}

TEST(CayleyBlocks, PackingRoundTripsAndIsSkew) {
  at::Generator gen = axl::compat::make_cpu_generator(2);
  const at::Tensor packed = at::randn({3, 10}, gen, at::kFloat);  // b = 5: 5 * 4 / 2 values
  const at::Tensor skew = axl::peft::skew_from_packed(packed, 5);
  EXPECT_TRUE(at::equal(skew, -skew.transpose(-2, -1)));
  EXPECT_EQ(skew[0][0][1].item<float>(), packed[0][0].item<float>());  // row-major upper triangle
  EXPECT_EQ(skew[0][1][2].item<float>(), packed[0][4].item<float>());
  EXPECT_TRUE(at::equal(axl::peft::packed_from_skew(skew), packed));
}

TEST(CayleyBlocks, ExactTransformIsOrthogonalAndNeumannIsPeftsSeries) {
  const at::Tensor s = random_skew(2, 6, 0.05);
  const at::Tensor q = axl::peft::cayley(s);
  const at::Tensor eye = at::eye(6, at::kDouble).expand({2, 6, 6});
  EXPECT_LT(max_abs_diff(at::matmul(q, q.transpose(-2, -1)), eye), 1e-12);
  // (I - S)(I + S)^-1 itself.
  EXPECT_LT(max_abs_diff(at::matmul(eye - s, at::linalg_inv(eye + s)), q), 1e-12);
  const at::Tensor s2 = at::matmul(s, s), s3 = at::matmul(s2, s), s4 = at::matmul(s3, s);
  EXPECT_LT(max_abs_diff(axl::peft::cayley_neumann(s, 5), eye + 2 * s + 2 * s2 + 2 * s3 + s4), 1e-12);
  EXPECT_LT(max_abs_diff(axl::peft::cayley_neumann(s, 3), eye + 2 * s + 2 * s2 + s3), 1e-12);
  EXPECT_LT(max_abs_diff(axl::peft::cayley_neumann(s, 2), eye + 2 * s), 1e-12);
  // The series approximates (I + S)(I - S)^-1, the transpose of the exact form.
  EXPECT_LT(max_abs_diff(axl::peft::cayley_neumann(s, 30), q.transpose(-2, -1)), 1e-9);
}

TEST(CayleyBlocks, RotationIsTheBlockDiagonalProductAndDropoutKeepsIdentities) {
  const at::Tensor q = axl::peft::cayley(random_skew(4, 3, 0.3));
  at::Generator gen = axl::compat::make_cpu_generator(3);
  const at::Tensor x = at::randn({2, 5, 12}, gen, at::kDouble);
  const at::Tensor dense = axl::peft::block_diagonal(q);
  ASSERT_EQ(dense.size(0), 12);
  EXPECT_LT(max_abs_diff(axl::peft::rotate_blocks(x, q), at::matmul(x, dense)), 1e-12);
  const at::Tensor dropped = axl::peft::drop_blocks_to_identity(q, 0.5);
  int identities = 0;
  for (int64_t i = 0; i < 4; ++i) {
    if (at::equal(dropped[i], at::eye(3, at::kDouble))) ++identities;
    else EXPECT_TRUE(at::equal(dropped[i], q[i]));
  }
  EXPECT_EQ(identities, 2);
}

TEST(OftConfig, FormatIsDecidedFromTheSavedFieldsAndSettingsAreChecked) {
  const std::string src = "test";
  // A PEFT 0.12 file: no oft_block_size, saved (inference_mode present).
  EXPECT_TRUE(axl::peft::OftConfig::from_json({{"peft_type", "OFT"}, {"r", 4}, {"inference_mode", true}}, src).legacy);
  // From YAML (nothing saved): PEFT 0.19.1's defaults, r and oft_block_size exclusive.
  EXPECT_THROW(axl::peft::OftConfig::from_json({{"peft_type", "OFT"}, {"r", 4}}, src), axl::Error);
  auto c = axl::peft::OftConfig::from_json({{"peft_type", "OFT"}, {"r", 4}, {"oft_block_size", 0}}, src);
  EXPECT_FALSE(c.legacy);
  EXPECT_EQ(c.to_json()["oft_block_size"], 0);
  EXPECT_EQ(c.to_json()["peft_version"], "0.19.1");
  EXPECT_EQ(c.to_json()["use_cayley_neumann"], true);
  EXPECT_THROW(axl::peft::OftConfig::from_json({{"peft_type", "OFT"}, {"bias", "all"}}, src), axl::Error);
  EXPECT_THROW(axl::peft::BoftConfig::from_json({{"boft_block_size", 4}, {"boft_block_num", 2}}, src), axl::Error);
  // PEFT's nearest divisor when the block size does not divide in_features.
  EXPECT_EQ(axl::peft::nearest_divisor(64, 30), 32);
  EXPECT_EQ(axl::peft::nearest_divisor(64, 24), 16);  // 16 and 32 tie at 8: the lower
  EXPECT_EQ(axl::peft::nearest_divisor(64, 100), 64);
}

TEST(OftFixture, Peft012OutputRotationMatchesAndIsSavedInItsOwnFormat) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, "oft");
  axl::test::expect_fixture_parity(f, "oft", 14);
  // Saved back as PEFT 0.12 wrote it (0.19.1 cannot express an output rotation).
  auto model = axl::models::load_causal_lm(llama);
  auto adapter = axl::peft::load_adapter(model, f.adapter_dir);
  const std::string out = axl::test::scratch_dir("oft_legacy_save");
  axl::peft::save_adapter(adapter, out);
  auto j = axl::read_json_file(out + "/adapter_config.json");
  EXPECT_FALSE(j.contains("oft_block_size"));
  EXPECT_EQ(j["r"], 4);
  auto stored = axl::load_safetensors(out + "/adapter_model.safetensors");
  EXPECT_EQ(stored.count("base_model.model.model.layers.0.self_attn.q_proj.oft_r"), 1u);
}

TEST(BoftFixture, MatchesPeftAndSavesWithoutPermutations) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  auto f = axl::test::MethodFixture::methods_folder(llama, "boft");
  axl::test::expect_fixture_parity(f, "boft", 28);
  auto model = axl::models::load_causal_lm(llama);
  auto adapter = axl::peft::load_adapter(model, f.adapter_dir);
  const std::string out = axl::test::scratch_dir("boft_save");
  axl::peft::save_adapter(adapter, out);
  auto stored = axl::load_safetensors(out + "/adapter_model.safetensors");
  EXPECT_EQ(stored.size(), 28u);  // boft_R and boft_s; PEFT 0.19.1 saves no boft_P
  for (const auto& [k, t] : stored) EXPECT_EQ(k.find("boft_P"), std::string::npos) << k;
  EXPECT_EQ(axl::read_json_file(out + "/adapter_config.json")["peft_version"], "0.19.1");

  // A permutation that is not the identity (more butterfly factors) is refused clearly.
  std::map<std::string, at::Tensor> odd = {{"x.boft_P", at::eye(4).flip(0).unsqueeze(0)}};
  EXPECT_THROW(axl::peft::upgrade_stored_boft(odd), axl::Error);
}

struct FreshCase {
  std::string model;
  nlohmann::json config;
  std::string tag;
};

TEST(OftBoftFresh, AttachPerturbRoundTripAndMergeOnEveryArchitecture) {
  AXL_REQUIRE_FIXTURE(tiny, "hf-tiny");
  const nlohmann::json all = "all-linear";
  const std::vector<FreshCase> cases = {
      {"LlamaForCausalLM", {{"peft_type", "OFT"}, {"oft_block_size", 8}, {"target_modules", all}}, "oft_llama"},
      {"LlamaForCausalLM",
       {{"peft_type", "OFT"}, {"r", 4}, {"oft_block_size", 0}, {"use_cayley_neumann", false}, {"target_modules", all}},
       "oft_llama_exact"},
      {"LlamaForCausalLM",
       {{"peft_type", "OFT"}, {"oft_block_size", 16}, {"block_share", true}, {"coft", true}, {"eps", 1e-2},
        {"target_modules", all}},
       "oft_llama_share_coft"},
      {"Qwen2ForCausalLM", {{"peft_type", "OFT"}, {"oft_block_size", 8}, {"target_modules", all}}, "oft_qwen2"},
      {"GPT2LMHeadModel", {{"peft_type", "OFT"}, {"oft_block_size", 8}}, "oft_gpt2"},
      {"Phi3ForCausalLM", {{"peft_type", "OFT"}, {"oft_block_size", 12}, {"target_modules", all}}, "oft_phi3"},
      {"LlamaForCausalLM", {{"peft_type", "BOFT"}, {"boft_block_size", 8}, {"target_modules", all}}, "boft_llama"},
      {"Qwen2ForCausalLM", {{"peft_type", "BOFT"}, {"boft_block_num", 4}, {"boft_block_size", 0}}, "boft_qwen2"},
      {"GPT2LMHeadModel", {{"peft_type", "BOFT"}, {"boft_block_size", 4}}, "boft_gpt2"},
  };
  for (const auto& c : cases) {
    auto e = axl::test::check_fresh_adapter(tiny + "/" + c.model, c.config, c.tag);
    EXPECT_GT(e.changed, 1e-3) << c.tag;
    EXPECT_LE(e.merged, 1e-4) << c.tag;
    std::printf("%s: logits change %.3f, merged %.2e\n", c.tag.c_str(), e.changed, e.merged);
  }
}

}  // namespace
