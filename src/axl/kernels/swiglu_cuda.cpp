#include "axl/kernels/swiglu_cuda.h"

#include "axl/kernels/cuda/launchers.h"
#include "axl/kernels/cuda_launch.h"
#include "axl/kernels/cuda_switch.h"

namespace axl::kernels::cuda {

bool swiglu_uses_kernel(const at::Tensor& gate, const at::Tensor& up) {
  return enabled(Kernel::SwiGlu) && kernel_tensors_ok({&gate, &up}) && gate.sizes() == up.sizes();
}

std::pair<at::Tensor, at::Tensor> swiglu_backward_reference(const at::Tensor& dh, const at::Tensor& gate,
                                                            const at::Tensor& up) {
  at::Tensor d = dh.to(at::kFloat), g = gate.to(at::kFloat), u = up.to(at::kFloat);
  at::Tensor s = at::sigmoid(g);
  at::Tensor d_gate = d * u * s * (1 + g * (1 - s));
  return {d_gate.to(gate.scalar_type()), (d * g * s).to(up.scalar_type())};
}

at::Tensor swiglu_forward(const at::Tensor& gate, const at::Tensor& up) {
  if (!swiglu_uses_kernel(gate, up)) return at::silu(gate) * up;
  at::Tensor h = at::empty_like(gate);
  check_launch(axl_cuda_swiglu_forward(launcher_dtype(gate.scalar_type()), gate.data_ptr(), up.data_ptr(),
                                       h.data_ptr(), gate.numel(), current_stream(gate.device())),
               "swiglu_forward");
  return h;
}

std::pair<at::Tensor, at::Tensor> swiglu_backward(const at::Tensor& dh, const at::Tensor& gate, const at::Tensor& up) {
  if (!swiglu_uses_kernel(gate, up) || !kernel_tensors_ok({&gate, &dh}) || dh.sizes() != gate.sizes())
    return swiglu_backward_reference(dh, gate, up);
  at::Tensor d_gate = at::empty_like(gate), d_up = at::empty_like(up);
  check_launch(axl_cuda_swiglu_backward(launcher_dtype(gate.scalar_type()), dh.data_ptr(), gate.data_ptr(),
                                        up.data_ptr(), d_gate.data_ptr(), d_up.data_ptr(), gate.numel(),
                                        current_stream(gate.device())),
               "swiglu_backward");
  return {d_gate, d_up};
}

}  // namespace axl::kernels::cuda
