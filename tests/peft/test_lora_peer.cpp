// Our LoRA files against the live PEFT 0.19.1 + transformers (tests/peers/refs-peft.sh): an
// adapter attached, trained and saved by our code on the converted stories260K model gives the
// same logits in PeftModel as here, and our merge-lora folder gives them in transformers alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "axl/core/tensor_io.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "tests/fixtures.h"

namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(LoraPeer, OurAdapterAndMergeMatchLivePeft) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  std::string dir = peer ? std::string(peer) + "/peft" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/reference.safetensors")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference peft not generated (set AXL_PEER_FIXTURES)";
  }
  auto ref = axl::load_safetensors(dir + "/reference.safetensors");
  const at::Tensor ids = ref.at("input_ids");
  auto model = axl::models::load_causal_lm(dir + "/base");
  at::NoGradGuard ng;
  axl::models::ForwardInput in;
  in.input_ids = ids;
  double e_base = max_abs(model.forward(in).logits, ref.at("base_logits"));
  auto adapter = axl::peft::load_adapter(model, dir + "/adapter");
  at::Tensor ours = model.forward(in).logits;
  double e_adapter = max_abs(ours, ref.at("peft_logits"));
  // The adapter must matter for the comparison to mean anything.
  double moved = max_abs(ref.at("peft_logits"), ref.at("base_logits"));
  auto merged = axl::models::load_causal_lm(dir + "/merged");
  double e_merged_hf = max_abs(ref.at("merged_logits"), ref.at("peft_logits"));
  double e_merged_ours = max_abs(merged.forward(in).logits, ref.at("peft_logits"));
  EXPECT_LE(e_base, 1e-4);
  EXPECT_GT(moved, 1e-2);
  EXPECT_LE(e_adapter, 1e-4);
  EXPECT_LE(e_merged_hf, 1e-4);
  EXPECT_LE(e_merged_ours, 1e-4);
  EXPECT_EQ(adapter.layers.size(), 5u * static_cast<std::size_t>(model.config.num_layers));  // q, k, v, o, down
  std::printf("peer peft stories260K: %zu layers, adapter moves logits %.3f; ours vs PeftModel %.2e; "
              "transformers on our merge vs PeftModel %.2e; our merge vs PeftModel %.2e\n",
              adapter.layers.size(), moved, e_adapter, e_merged_hf, e_merged_ours);
}

}  // namespace
