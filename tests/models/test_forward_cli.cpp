// `axolotl forward` end to end: the binary's output file matches the fixture references for
// every hf-tiny model, padded variant included (through --mask-key / --labels-key).
#include <gtest/gtest.h>

#include <cstdlib>

#include "axl/core/tensor_io.h"
#include "tests/fixtures.h"

namespace {

std::string axolotl_binary() {
  const char* b = std::getenv("AXL_BUILD_DIR");
  return b ? std::string(b) + "/bin/axolotl" : std::string();
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

class ForwardCli : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardCli, WritesTheReferenceOutputs) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  std::string bin = axolotl_binary();
  if (bin.empty() || !std::filesystem::exists(bin)) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  std::string out = axl::test::scratch_dir("forward_cli_" + GetParam());
  std::string cmd = bin + " forward --model " + dir + " --input " + dir + "/reference.safetensors --out " +
                    out + "/plain.safetensors --hidden-states";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  auto got = axl::load_safetensors(out + "/plain.safetensors");
  EXPECT_LE(max_abs(got.at("logits"), ref.at("logits")), 1e-4);
  EXPECT_LE(max_abs(got.at("hidden_states"), ref.at("hidden_states")), 1e-4);
  EXPECT_EQ(got.at("loss").sizes(), (std::vector<int64_t>{1}));
  EXPECT_LE(max_abs(got.at("loss"), ref.at("loss")), 1e-4);

  cmd = bin + " forward --model " + dir + " --input " + dir + "/reference.safetensors --out " + out +
        "/pad.safetensors --mask-key pad_attention_mask --labels-key pad_labels";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto pad = axl::load_safetensors(out + "/pad.safetensors");
  EXPECT_FALSE(pad.count("hidden_states"));
  EXPECT_LE(max_abs(pad.at("loss"), ref.at("pad_loss")), 1e-4);
  at::Tensor keep = ref.at("pad_attention_mask").ne(0).unsqueeze(-1).expand_as(pad.at("logits"));
  EXPECT_LE((pad.at("logits") - ref.at("pad_logits")).abs().masked_select(keep).max().item<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, ForwardCli,
                         ::testing::Values("LlamaForCausalLM", "MistralForCausalLM",
                                           "Qwen2ForCausalLM", "GemmaForCausalLM",
                                           "Phi3ForCausalLM", "GPT2LMHeadModel"));

TEST(Dtypes, Bfloat16AndFloat16StayCloseToFloat32) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  std::string bin = axolotl_binary();
  if (bin.empty() || !std::filesystem::exists(bin)) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  std::string out = axl::test::scratch_dir("forward_dtypes");
  for (const char* dtype : {"bfloat16", "float16"}) {
    std::string cmd = bin + " forward --model " + dir + " --input " + dir + "/reference.safetensors --out " +
                      out + "/" + dtype + ".safetensors --dtype " + dtype;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto got = axl::load_safetensors(out + "/" + dtype + ".safetensors");
    EXPECT_EQ(got.at("logits").scalar_type(), at::kFloat);
    // Half-precision weights and activations: close to float32, but not equal.
    double err = max_abs(got.at("logits"), ref.at("logits"));
    EXPECT_GT(err, 0.0) << dtype;
    EXPECT_LE(err, 0.15) << dtype;
    EXPECT_LE(max_abs(got.at("loss"), ref.at("loss")), 0.02) << dtype;
  }
}

}  // namespace
