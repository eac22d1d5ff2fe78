#pragma once
// RMSNorm forward and backward through the CUDA kernel (kernels/cuda/rms_norm.cu) when it is
// switched on (cuda_switch.h) and the tensors suit it, else through the ATen reference below.
// Both return what kernels::rms_norm (plus_one: rms_norm_plus_one) and its autograd gradient
// give. For the autograd functions of the decoder, which save inv_rms instead of recomputing.
#include <ATen/ATen.h>

namespace axl::kernels::cuda {

struct RmsNormForward {
  at::Tensor y;        // like x
  at::Tensor inv_rms;  // float32 [rows]: 1 / sqrt(mean(x^2) + eps) per row of x's last dim
};
struct RmsNormGrads {
  at::Tensor dx;  // like x
  at::Tensor dw;  // like w
};

// x [..., H] and w [H] of one dtype (plus_one: Gemma's (1 + w) scaling).
RmsNormForward rms_norm_forward(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one = false);
RmsNormGrads rms_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                               const at::Tensor& inv_rms, bool plus_one = false);

// Whether the calls above would run the kernel for these tensors.
bool rms_norm_uses_kernel(const at::Tensor& x, const at::Tensor& w);

// The ATen references (any device): rms_norm_function.h's rms_norm_math, which therefore must
// never call back into the functions above.
RmsNormForward rms_norm_forward_reference(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one);
RmsNormGrads rms_norm_backward_reference(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                                         const at::Tensor& inv_rms, bool plus_one);

}  // namespace axl::kernels::cuda
