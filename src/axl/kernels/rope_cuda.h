#pragma once
// Rotary embeddings forward and backward through the CUDA kernel (kernels/cuda/rope.cu) when
// switched on (cuda_switch.h) and the tensors suit it, else through ATen. Forward equals
// kernels::apply_rope; backward is its gradient (the transposed rotation), so an autograd
// function need save only cos and sin. The in-place forms overwrite x / grad.
#include <ATen/ATen.h>

namespace axl::kernels::cuda {

// x [B, H, T, D] (any strides with a unit last stride), cos/sin [B, T, rot] (rot <= D, even).
at::Tensor rope_forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
at::Tensor rope_backward(const at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin);
void rope_forward_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
void rope_backward_(at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin);

bool rope_uses_kernel(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// ATen reference of the backward: d1 = g1 c1 + g2 s2, d2 = g2 c2 - g1 s1 on the rotated part.
at::Tensor rope_backward_reference(const at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace axl::kernels::cuda
