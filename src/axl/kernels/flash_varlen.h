#pragma once
// Packed-row attention on CUDA through flash attention's varlen kernel in ATen
// (at::_flash_attention_forward/_backward with cu_seqlens, torch 2.x): every sample of the
// packed row attends causally to itself only, without a (T x T) mask and without work on
// masked blocks. Grouped-query heads go in unexpanded. Wrapped in an autograd function.
// kernels::attention uses it for packed rows on CUDA when the `flash_varlen` switch is on
// (cuda_switch.h) and the spec fits; otherwise the existing paths run.
#include <ATen/ATen.h>

#include "axl/kernels/attention.h"

namespace axl::kernels {

// A batch of one packed row (cu_seqlens set, as many queries as keys, no KV-cache offset),
// float16/bfloat16 CUDA tensors, head dim a multiple of 8 up to 256, no soft-cap or key
// padding, and the switch on.
bool can_use_flash_varlen(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionSpec& spec);

// q [1, H, T, D], k/v [1, Hkv, T, D] -> [1, H, T, D]; sliding windows carried over.
at::Tensor flash_varlen_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  const AttentionSpec& spec);

}  // namespace axl::kernels
