// Parity with transformers: logits, per-layer hidden states, loss and the padded batch of
// every hf-tiny model (and the Qwen3 / Gemma 2 references made by tests/peers), max abs
// error <= 1e-4 in float32 on the CPU, through both attention paths.
#include <gtest/gtest.h>

#include <c10/core/InferenceMode.h>

#include <cstdio>

#include "axl/core/tensor_io.h"
#include "axl/models/causal_lm.h"
#include "axl/models/loader.h"
#include "tests/fixtures.h"

namespace {

using axl::models::CausalLM;
using axl::models::ForwardInput;

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// Positions where the padded reference is meaningful: rows/positions with mask 1.
double max_abs_masked(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask) {
  at::Tensor keep = mask.ne(0).unsqueeze(-1).expand_as(a);
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().masked_select(keep).max().item<double>();
}

void check_model_dir(const std::string& dir, axl::kernels::AttentionImpl impl) {
  SCOPED_TRACE(dir);
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  CausalLM model = axl::models::load_causal_lm(dir);
  c10::InferenceMode guard;

  ForwardInput in;
  in.input_ids = ref.at("input_ids");
  in.attention_mask = ref.at("attention_mask");
  in.output_hidden_states = true;
  in.attention = impl;
  auto out = model.forward(in);
  at::Tensor hidden = at::stack(out.hidden_states);
  ASSERT_EQ(hidden.sizes(), ref.at("hidden_states").sizes());
  at::Tensor loss = axl::models::causal_lm_loss(out.logits, ref.at("input_ids"));
  double e_logits = max_abs(out.logits, ref.at("logits"));
  double e_hidden = max_abs(hidden, ref.at("hidden_states"));
  double e_loss = std::abs(loss.item<double>() - ref.at("loss").item<double>());
  EXPECT_LE(e_logits, 1e-4);
  EXPECT_LE(e_hidden, 1e-4);
  EXPECT_LE(e_loss, 1e-4);

  ForwardInput pad;
  pad.input_ids = ref.at("input_ids");
  pad.attention_mask = ref.at("pad_attention_mask");
  pad.attention = impl;
  auto pout = model.forward(pad);
  at::Tensor ploss = axl::models::causal_lm_loss(pout.logits, ref.at("pad_labels"));
  double e_pad_logits = max_abs_masked(pout.logits, ref.at("pad_logits"), ref.at("pad_attention_mask"));
  double e_pad_loss = std::abs(ploss.item<double>() - ref.at("pad_loss").item<double>());
  EXPECT_LE(e_pad_logits, 1e-4);
  EXPECT_LE(e_pad_loss, 1e-4);
  // One line per model and attention path: the figures the closing notes quote.
  std::printf("parity %s %s: logits %.2e hidden %.2e loss %.2e pad_logits %.2e pad_loss %.2e\n",
              std::filesystem::path(dir).filename().c_str(),
              impl == axl::kernels::AttentionImpl::Eager ? "eager" : "sdpa", e_logits, e_hidden,
              e_loss, e_pad_logits, e_pad_loss);
}

class HfTinyParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HfTinyParity, EagerMatchesTransformers) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  check_model_dir(dir, axl::kernels::AttentionImpl::Eager);
}

TEST_P(HfTinyParity, SdpaMatchesTransformers) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + GetParam());
  check_model_dir(dir, axl::kernels::AttentionImpl::Auto);
}

INSTANTIATE_TEST_SUITE_P(Models, HfTinyParity,
                         ::testing::Values("LlamaForCausalLM", "MistralForCausalLM",
                                           "Qwen2ForCausalLM", "GemmaForCausalLM",
                                           "Phi3ForCausalLM", "GPT2LMHeadModel"));

// Made by tests/peers/make_hf_reference.py with the live transformers (see Makefile).
class PeerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerParity, MatchesLiveTransformers) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  std::string dir = peer ? std::string(peer) + "/" + GetParam() : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/reference.safetensors")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference " << GetParam() << " not generated (set AXL_PEER_FIXTURES)";
  }
  check_model_dir(dir, axl::kernels::AttentionImpl::Eager);
  check_model_dir(dir, axl::kernels::AttentionImpl::Auto);
}

INSTANTIATE_TEST_SUITE_P(Models, PeerParity,
                         ::testing::Values("Qwen3ForCausalLM", "Gemma2ForCausalLM",
                                           "LlamaRope3SlidingForCausalLM", "Stories260KConverted"));

}  // namespace
