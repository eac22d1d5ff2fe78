#include "axl/kernels/rope_cuda.h"

#include "axl/kernels/cuda/launchers.h"
#include "axl/kernels/cuda_launch.h"
#include "axl/kernels/cuda_switch.h"
#include "axl/kernels/rope.h"

namespace axl::kernels::cuda {

namespace {

// Runs the kernel from `x` into `out` (both [B, H, T, D]; out may be x).
void launch(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, at::Tensor& out, bool backward) {
  const int64_t xs[3] = {x.stride(0), x.stride(1), x.stride(2)};
  const int64_t os[3] = {out.stride(0), out.stride(1), out.stride(2)};
  check_launch(axl_cuda_rope(launcher_dtype(x.scalar_type()), x.data_ptr(), xs, cos.data_ptr(), sin.data_ptr(),
                             out.data_ptr(), os, x.size(0), x.size(1), x.size(2), cos.size(-1), backward ? 1 : 0,
                             current_stream(x.device())),
               backward ? "rope_backward" : "rope_forward");
}

at::Tensor out_of_place(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, bool backward) {
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  const int64_t rot = cos.size(-1), d = x.size(-1);
  if (rot < d) out.narrow(-1, rot, d - rot).copy_(x.narrow(-1, rot, d - rot));
  launch(x, cos, sin, out, backward);
  return out;
}

}  // namespace

bool rope_uses_kernel(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  if (!enabled(Kernel::Rope) || !kernel_tensors_ok({&cos, &sin}) || x.dim() != 4 || !x.is_cuda()) return false;
  return x.scalar_type() == cos.scalar_type() && x.device() == cos.device() && x.stride(-1) == 1 &&
         cos.dim() == 3 && cos.sizes() == sin.sizes() && cos.size(0) == x.size(0) && cos.size(1) == x.size(2) &&
         cos.size(2) % 2 == 0 && cos.size(2) <= x.size(3);
}

at::Tensor rope_backward_reference(const at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t rot = cos.size(-1), half = rot / 2, d = grad.size(-1);
  at::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);  // [B, 1, T, rot]
  at::Tensor g1 = grad.narrow(-1, 0, half), g2 = grad.narrow(-1, half, half);
  at::Tensor d1 = g1 * c.narrow(-1, 0, half) + g2 * s.narrow(-1, half, half);
  at::Tensor d2 = g2 * c.narrow(-1, half, half) - g1 * s.narrow(-1, 0, half);
  if (rot == d) return at::cat({d1, d2}, -1);
  return at::cat({d1, d2, grad.narrow(-1, rot, d - rot)}, -1);
}

at::Tensor rope_forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  if (!rope_uses_kernel(x, cos, sin)) return apply_rope(x, cos, sin);
  return out_of_place(x, cos, sin, false);
}

at::Tensor rope_backward(const at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin) {
  if (!rope_uses_kernel(grad, cos, sin)) return rope_backward_reference(grad, cos, sin);
  return out_of_place(grad, cos, sin, true);
}

void rope_forward_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  if (rope_uses_kernel(x, cos, sin)) launch(x, cos, sin, x, false);
  else x.copy_(apply_rope(x, cos, sin));
}

void rope_backward_(at::Tensor& grad, const at::Tensor& cos, const at::Tensor& sin) {
  if (rope_uses_kernel(grad, cos, sin)) launch(grad, cos, sin, grad, true);
  else grad.copy_(rope_backward_reference(grad, cos, sin));
}

}  // namespace axl::kernels::cuda
