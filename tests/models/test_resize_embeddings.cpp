// resize_token_embeddings: old rows bit-equal, a tied head follows the embeddings, an untied
// head grows too, new rows finite, near the old rows' mean, and the same for the same seed.
#include <gtest/gtest.h>

#include "axl/models/loader.h"
#include "axl/models/resize_embeddings.h"
#include "tests/fixtures.h"

namespace {

using axl::models::CausalLM;

at::Tensor head_weight(const CausalLM& m) { return m.lm_head.base->dense_weight(); }

TEST(ResizeEmbeddings, UntiedHeadGrowsAndOldRowsStayBitEqual) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM/model.safetensors");
  const std::string model_dir = axl::test::fixtures_dir() + "/hf-tiny/LlamaForCausalLM";
  CausalLM m = axl::models::load_causal_lm(model_dir);
  ASSERT_FALSE(m.config.tie_word_embeddings);
  const at::Tensor embed0 = m.embed.clone(), head0 = head_weight(m).clone();
  const int64_t v = embed0.size(0);
  EXPECT_EQ(axl::models::resize_token_embeddings(m, v + 3), v + 3);
  EXPECT_EQ(m.config.vocab_size, v + 3);
  ASSERT_EQ(m.embed.size(0), v + 3);
  ASSERT_EQ(head_weight(m).size(0), v + 3);
  EXPECT_TRUE(at::equal(m.embed.narrow(0, 0, v), embed0));
  EXPECT_TRUE(at::equal(head_weight(m).narrow(0, 0, v), head0));
  const at::Tensor fresh = m.embed.narrow(0, v, 3);
  EXPECT_TRUE(at::isfinite(fresh).all().item<bool>());
  // transformers' mean resizing: the mean plus a sample of 1e-9 * covariance (tiny).
  EXPECT_LT((fresh - embed0.mean(0)).abs().max().item<double>(), 1e-3);
  EXPECT_LT((head_weight(m).narrow(0, v, 3) - head0.mean(0)).abs().max().item<double>(), 1e-3);
  // the new rows are not all the same sample
  EXPECT_FALSE(at::equal(fresh[0], fresh[1]));

  // The model runs with the new ids, and the logits of old ids are unchanged.
  at::NoGradGuard ng;
  axl::models::ForwardInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{1, 5, v + 2, v}, at::kLong).view({1, 4});
  const at::Tensor logits = m.forward(in).logits;
  EXPECT_EQ(logits.size(2), v + 3);
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());

  // Same seed, same rows; no growth when the model is already big enough.
  CausalLM m2 = axl::models::load_causal_lm(model_dir);
  axl::models::resize_token_embeddings(m2, v + 3);
  EXPECT_TRUE(at::equal(m2.embed, m.embed));
  EXPECT_TRUE(at::equal(head_weight(m2), head_weight(m)));
  EXPECT_EQ(axl::models::resize_token_embeddings(m2, v + 1), v + 3);
  EXPECT_EQ(m2.embed.size(0), v + 3);
  axl::models::ResizeOptions other;
  other.seed = 1234;
  CausalLM m3 = axl::models::load_causal_lm(model_dir);
  axl::models::resize_token_embeddings(m3, v + 3, other);
  EXPECT_FALSE(at::equal(m3.embed, m.embed));
}

TEST(ResizeEmbeddings, TiedHeadFollowsAndPadsToMultiple) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/Qwen2ForCausalLM/model.safetensors");
  CausalLM m = axl::models::load_causal_lm(axl::test::fixtures_dir() + "/hf-tiny/Qwen2ForCausalLM");
  ASSERT_TRUE(m.config.tie_word_embeddings);
  const at::Tensor embed0 = m.embed.clone();
  const int64_t v = embed0.size(0);
  axl::models::ResizeOptions o;
  o.pad_to_multiple_of = 32;
  const int64_t rows = axl::models::resize_token_embeddings(m, v + 1, o);
  EXPECT_EQ(rows % 32, 0);
  EXPECT_GE(rows, v + 1);
  EXPECT_EQ(head_weight(m).data_ptr(), m.embed.data_ptr());  // still tied
  EXPECT_TRUE(at::equal(m.embed.narrow(0, 0, v), embed0));
  EXPECT_TRUE(at::isfinite(m.embed).all().item<bool>());
  // Shrinking only when asked.
  axl::models::ResizeOptions shrink;
  shrink.shrink = true;
  EXPECT_EQ(axl::models::resize_token_embeddings(m, v, shrink), v);
  EXPECT_TRUE(at::equal(m.embed, embed0));
  EXPECT_EQ(head_weight(m).data_ptr(), m.embed.data_ptr());
}

}  // namespace
