// The eager reference and the SDPA path agree on every mask kind; the masks mean what
// transformers means (sliding window i - W < j <= i, padding hides keys, packed sequences
// never see each other).
#include <gtest/gtest.h>

#include "axl/kernels/attention.h"

namespace {

using axl::kernels::AttentionImpl;
using axl::kernels::AttentionSpec;

struct Qkv {
  at::Tensor q, k, v;
};

Qkv random_qkv(int64_t b, int64_t h, int64_t hkv, int64_t t, int64_t d) {
  at::manual_seed(0);
  return {at::randn({b, h, t, d}), at::randn({b, hkv, t, d}), at::randn({b, hkv, t, d})};
}

double eager_vs_sdpa(const Qkv& x, AttentionSpec spec) {
  spec.impl = AttentionImpl::Eager;
  at::Tensor a = axl::kernels::attention(x.q, x.k, x.v, spec);
  spec.impl = AttentionImpl::Sdpa;
  at::Tensor b = axl::kernels::attention(x.q, x.k, x.v, spec);
  return (a - b).abs().max().item<double>();
}

TEST(Attention, EagerAndSdpaAgree) {
  Qkv x = random_qkv(2, 4, 2, 10, 8);
  AttentionSpec spec;
  EXPECT_LE(eager_vs_sdpa(x, spec), 1e-5);
  spec.sliding_window = 3;
  EXPECT_LE(eager_vs_sdpa(x, spec), 1e-5);
  spec.sliding_window = 0;
  spec.key_padding_mask = at::ones({2, 10}, at::kLong);
  spec.key_padding_mask[1].narrow(0, 7, 3).fill_(0);
  EXPECT_LE(eager_vs_sdpa(x, spec), 1e-5);
}

TEST(Attention, MaskSemantics) {
  AttentionSpec spec;
  spec.sliding_window = 3;
  at::Tensor m = axl::kernels::build_attention_mask(spec, 1, 6, 6, at::kFloat, at::kCPU)[0][0];
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      bool visible = (i - 3 < j) && (j <= i);
      EXPECT_EQ(m[i][j].item<float>() == 0.0f, visible) << i << "," << j;
    }
}

TEST(Attention, PackedSequencesEqualSeparateRuns) {
  Qkv x = random_qkv(1, 2, 2, 9, 4);
  AttentionSpec packed;
  packed.cu_seqlens = at::tensor({0, 4, 9}, at::kInt);
  for (auto impl : {AttentionImpl::Eager, AttentionImpl::Sdpa}) {
    packed.impl = impl;
    at::Tensor out = axl::kernels::attention(x.q, x.k, x.v, packed);
    AttentionSpec plain;
    plain.impl = impl;
    at::Tensor first = axl::kernels::attention(x.q.narrow(2, 0, 4), x.k.narrow(2, 0, 4), x.v.narrow(2, 0, 4), plain);
    at::Tensor second = axl::kernels::attention(x.q.narrow(2, 4, 5), x.k.narrow(2, 4, 5), x.v.narrow(2, 4, 5), plain);
    EXPECT_LE((out - at::cat({first, second}, 2)).abs().max().item<double>(), 1e-5);
  }
}

// The host copy of the boundaries (the model makes it once per forward) is what the segments
// follow; one that disagrees with the row is refused as cu_seqlens would be.
TEST(Attention, PackedHostBoundariesAreUsedAndChecked) {
  Qkv x = random_qkv(1, 2, 2, 9, 4);
  AttentionSpec packed;
  packed.cu_seqlens = at::tensor({0, 4, 9}, at::kInt);
  const at::Tensor want = axl::kernels::attention(x.q, x.k, x.v, packed);
  packed.cu_seqlens_host = {0, 4, 9};
  EXPECT_TRUE(at::equal(axl::kernels::attention(x.q, x.k, x.v, packed), want));
  packed.cu_seqlens_host = {0, 6, 9};  // the host copy wins: other segments, other output
  EXPECT_GT((axl::kernels::attention(x.q, x.k, x.v, packed) - want).abs().max().item<double>(), 1e-3);
  packed.cu_seqlens_host = {0, 4, 8};
  EXPECT_THROW(axl::kernels::attention(x.q, x.k, x.v, packed), std::exception);
}

TEST(Attention, SoftcapChangesScoresAsDefined) {
  Qkv x = random_qkv(1, 1, 1, 4, 4);
  AttentionSpec spec;
  spec.softcap = 0.5;
  at::Tensor out = axl::kernels::attention(x.q * 10, x.k, x.v, spec);
  at::Tensor scores = at::matmul(x.q * 10, x.k.transpose(2, 3)) / 2.0;
  scores = at::tanh(scores / 0.5) * 0.5;
  scores = scores + axl::kernels::build_attention_mask({}, 1, 4, 4, at::kFloat, at::kCPU);
  at::Tensor ref = at::matmul(at::softmax(scores, -1), x.v);
  EXPECT_LE((out - ref).abs().max().item<double>(), 1e-6);
}

}  // namespace
