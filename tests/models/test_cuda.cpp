// The same model code on a GPU: parity with the fixtures in float32 (TF32 off) and the
// stories260K golden output. Runs only where CUDA is usable (the lent GPU machines, through
// scripts/gpu-suite.sh); elsewhere each test says it was skipped for want of a GPU.
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>

#include "axl/core/tensor_io.h"
#include "axl/models/generation.h"
#include "axl/models/llama2c_convert.h"
#include "axl/models/loader.h"
#include "tests/fixtures.h"

namespace {

#define AXL_REQUIRE_CUDA() \
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device on this machine"

class CudaParity : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaParity, Float32MatchesTransformers) {
  AXL_REQUIRE_CUDA();
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  at::globalContext().setAllowTF32CuBLAS(false);
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  axl::models::LoadOptions opts;
  opts.device = at::Device(at::kCUDA);
  auto model = axl::models::load_causal_lm(dir, opts);
  c10::InferenceMode guard;
  axl::models::ForwardInput in;
  in.input_ids = ref.at("input_ids").cuda();
  in.attention_mask = ref.at("pad_attention_mask").cuda();
  auto out = model.forward(in);
  at::Tensor keep = ref.at("pad_attention_mask").ne(0).unsqueeze(-1).expand_as(ref.at("pad_logits"));
  double err = (out.logits.cpu() - ref.at("pad_logits")).abs().masked_select(keep).max().item<double>();
  EXPECT_LE(err, 1e-4);
  at::Tensor loss = axl::models::causal_lm_loss(out.logits, ref.at("pad_labels").cuda());
  EXPECT_NEAR(loss.item<double>(), ref.at("pad_loss").item<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Models, CudaParity,
                         ::testing::Values("LlamaForCausalLM", "MistralForCausalLM",
                                           "Qwen2ForCausalLM", "GemmaForCausalLM",
                                           "Phi3ForCausalLM", "GPT2LMHeadModel"));

TEST(CudaGeneration, Stories260KGreedyMatchesLlama2c) {
  AXL_REQUIRE_CUDA();
  AXL_REQUIRE_FIXTURE(fixture, "llama2c-stories260K");
  AXL_REQUIRE_FIXTURE(golden, "golden/stories260K_greedy_256.json");
  std::string dir = axl::test::scratch_dir("stories-cuda");
  axl::models::convert_llama2c({fixture + "/stories260K.bin", "", dir});
  axl::models::LoadOptions opts;
  opts.device = at::Device(at::kCUDA);
  auto model = axl::models::load_causal_lm(dir, opts);
  axl::models::GenerateOptions g;
  g.max_new_tokens = 256;
  g.stop_at_eos = false;
  auto ids = axl::models::generate(model, {1}, g);
  auto cpu_model = axl::models::load_causal_lm(dir);
  EXPECT_EQ(ids, axl::models::generate(cpu_model, {1}, g));
}

}  // namespace
