#pragma once
// RMSNorm as one autograd node that keeps only the inverse RMS per row (besides its input,
// which the residual stream holds anyway). Plain autograd on norms.h's expression keeps the
// float32 copy of x, its square, the normalised rows and their cast. Same numerics as
// kernels::rms_norm / rms_norm_plus_one: statistics in float32, Llama multiplies by the
// weight after the cast back, Gemma by (1 + w) before it. The weight gets a gradient when it
// requires one (a full fine-tune).
#include <ATen/ATen.h>

namespace axl::kernels {

// plus_one: Gemma's (1 + w) form.
at::Tensor rms_norm_fused(const at::Tensor& x, const at::Tensor& weight, double eps, bool plus_one = false);

namespace rms_norm_math {
// The inner math a device kernel may replace: forward gives {y, inv_rms [..., 1] float32};
// backward gives {dx, dweight (undefined unless need_dweight)}.
std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x, const at::Tensor& weight, double eps, bool plus_one);
std::pair<at::Tensor, at::Tensor> backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight,
                                           const at::Tensor& inv_rms, bool plus_one, bool need_dweight);
}  // namespace rms_norm_math

}  // namespace axl::kernels
