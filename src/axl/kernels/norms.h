#pragma once
// Normalisations with transformers' numerics: RMSNorm in float32 then cast back (Llama
// multiplies by the weight after the cast, Gemma multiplies by (1 + w) before it);
// LayerNorm as torch's.
#include <ATen/ATen.h>

namespace axl::kernels {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
at::Tensor rms_norm_plus_one(const at::Tensor& x, const at::Tensor& weight, double eps);
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps);

}  // namespace axl::kernels
