#pragma once
// RoPE rotated in place, with no saved activations (Unsloth's Fast_RoPE_Embedding idea, in
// ATen ops). The plain path (rope.h) keeps x, the rotated copy and the products for backward
// and allocates the output; here the projection's output is overwritten, and backward applies
// the inverse rotation (sin -> -sin) to the incoming gradient, so only cos and sin are kept.
#include <ATen/ATen.h>

namespace axl::kernels {

// x [B, T, heads * head_dim] (a projection's output): rotates the first cos.size(-1)
// features of every head by cos/sin [B, T, rot], as apply_rope does on [B, heads, T, D], and
// returns x itself (marked dirty for autograd). x must be contiguous and not a view (an
// in-place change through a view would corrupt the base's autograd history): callers copy
// first when it is one (can_rotate_in_place).
at::Tensor apply_rope_inplace_(const at::Tensor& x, int64_t head_dim, const at::Tensor& cos, const at::Tensor& sin);

// Whether apply_rope_inplace_ may take x as it is.
bool can_rotate_in_place(const at::Tensor& x);

}  // namespace axl::kernels
