#pragma once
// Attention over packed rows (sample packing), one sample segment at a time: each segment of
// a row of a batch of one is attended on its own with plain causal attention, which skips the
// (T x T) block-diagonal mask and the work on its zero blocks. On CPU this is what
// kernels::attention uses for packed rows (bench/packed_training.cpp measures it against the
// mask); a CUDA varlen flash kernel takes the same cu_seqlens (flash-attn's varlen layout).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "axl/kernels/attention.h"

namespace axl::kernels {

// cu_seqlens [S+1], int32 or int64: 0, end of sample 1, ..., T (padding at the end of a row is
// a segment of its own). Throws axl::Error unless it starts at 0, never decreases and ends at
// `total`.
std::vector<int64_t> packed_segment_bounds(const at::Tensor& cu_seqlens, int64_t total);
// The spec's boundaries: its host copy when set (checked the same way), else cu_seqlens'.
std::vector<int64_t> packed_segment_bounds(const AttentionSpec& spec, int64_t total);

// Whether a spec can run segment by segment: packed, no KV cache or prefix (q_offset 0), as
// many queries as keys, a batch of one.
bool can_attend_per_segment(const AttentionSpec& spec, int64_t batch, int64_t tq, int64_t tk);

// q [1, H, T, D], k/v [1, Hkv, T, D] -> [1, H, T, D]: kernels::attention on every segment
// (causal, sliding window, soft-cap and key padding carried over), concatenated.
at::Tensor attention_per_segment(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionSpec& spec);

}  // namespace axl::kernels
