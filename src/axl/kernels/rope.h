#pragma once
// Rotary position embeddings in transformers' rotate-half layout, with the rope_scaling
// variants (linear, dynamic NTK, llama3). Frequencies and angles are computed in float32.
#include <ATen/ATen.h>

#include "axl/kernels/rope_config.h"

namespace axl::kernels {

// inv_freq [rotary_dim / 2], float32, for a sequence of `seq_len` positions (only dynamic
// scaling depends on it).
at::Tensor rope_inv_freq(const RopeConfig& rope, int64_t rotary_dim,
                         int64_t max_position_embeddings, int64_t seq_len, at::Device device);

// cos and sin [B, T, rotary_dim] for position ids [B, T], in `dtype`.
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq,
                                               const at::Tensor& position_ids,
                                               at::ScalarType dtype);

// x [B, H, T, D]: rotates the first cos.size(-1) features, leaves the rest as they are.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace axl::kernels
