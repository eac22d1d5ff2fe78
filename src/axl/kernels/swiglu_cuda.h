#pragma once
// SwiGLU, silu(gate) * up, forward and backward through the CUDA kernel (kernels/cuda/swiglu.cu)
// when switched on (cuda_switch.h) and the tensors suit it, else through ATen.
#include <ATen/ATen.h>

#include <utility>

namespace axl::kernels::cuda {

at::Tensor swiglu_forward(const at::Tensor& gate, const at::Tensor& up);
// (d_gate, d_up) for the incoming gradient dh; gate, up and dh of one shape and dtype.
std::pair<at::Tensor, at::Tensor> swiglu_backward(const at::Tensor& dh, const at::Tensor& gate, const at::Tensor& up);

bool swiglu_uses_kernel(const at::Tensor& gate, const at::Tensor& up);

// ATen reference of the backward, in float32, rounded once to the dtype.
std::pair<at::Tensor, at::Tensor> swiglu_backward_reference(const at::Tensor& dh, const at::Tensor& gate,
                                                            const at::Tensor& up);

}  // namespace axl::kernels::cuda
