#pragma once
// Attention dispatch. Callers describe the attention (causal, window, soft-cap, padding,
// packed sequences) and this picks the implementation: the eager reference (plain softmax,
// transformers' "eager" semantics) or at::scaled_dot_product_attention when it can express
// the same thing. Both paths take q [B, H, Tq, D], k/v [B, Hkv, Tk, D] (grouped-query heads
// are expanded here) and return [B, H, Tq, D].
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace axl::kernels {

enum class AttentionImpl { Auto, Eager, Sdpa };

struct AttentionSpec {
  double scale = 0.0;        // 0 means 1/sqrt(D)
  double softcap = 0.0;      // Gemma 2: scores = cap * tanh(scores / cap); forces eager
  int64_t sliding_window = 0;  // >0: query i sees keys j with i - W < j <= i
  int64_t q_offset = 0;      // absolute position of query 0 (keys start at 0); for KV caches
  // [B, Tk] with 1 for real keys and 0 for padding; undefined = all keys real.
  at::Tensor key_padding_mask;
  // Packed rows (sample packing): int32 [S+1] cumulative sample lengths 0, .., T of the one
  // row of a batch of one (flash-attn's varlen layout); attention never crosses a boundary.
  // Undefined = one sequence per row.
  at::Tensor cu_seqlens;
  // The same boundaries on the host when the caller has them (a CUDA cu_seqlens would
  // otherwise be copied back, a device sync, in every layer); empty: read from cu_seqlens.
  std::vector<int64_t> cu_seqlens_host;
  AttentionImpl impl = AttentionImpl::Auto;
};

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionSpec& spec);

// The additive mask [B or 1, 1, Tq, Tk] (0 or dtype's lowest) both paths use. A finite
// lowest value rather than -inf keeps fully masked rows finite, as transformers does.
at::Tensor build_attention_mask(const AttentionSpec& spec, int64_t batch, int64_t tq, int64_t tk,
                                at::ScalarType dtype, at::Device device);

}  // namespace axl::kernels
