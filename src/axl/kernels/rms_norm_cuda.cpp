#include "axl/kernels/rms_norm_cuda.h"

#include <vector>

#include "axl/kernels/cuda/launchers.h"
#include "axl/kernels/cuda_launch.h"
#include "axl/kernels/cuda_switch.h"
#include "axl/kernels/rms_norm_function.h"

namespace axl::kernels::cuda {

// The references are rms_norm_function.h's math (inverse RMS kept as [..., 1] there).
RmsNormForward rms_norm_forward_reference(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one) {
  auto [y, inv] = rms_norm_math::forward(x, w, eps, plus_one);
  return {y, inv.reshape({-1})};
}

RmsNormGrads rms_norm_backward_reference(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                                         const at::Tensor& inv_rms, bool plus_one) {
  std::vector<int64_t> rows_shape = x.sizes().vec();
  rows_shape.back() = 1;
  auto [dx, dw] = rms_norm_math::backward(dy, x, w, inv_rms.reshape(rows_shape), plus_one, /*need_dweight=*/true);
  return {dx, dw};
}

bool rms_norm_uses_kernel(const at::Tensor& x, const at::Tensor& w) {
  return enabled(Kernel::RmsNorm) && kernel_tensors_ok({&x, &w}) && w.dim() == 1 && x.size(-1) == w.size(0);
}

RmsNormForward rms_norm_forward(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one) {
  if (!rms_norm_uses_kernel(x, w)) return rms_norm_forward_reference(x, w, eps, plus_one);
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  RmsNormForward out{at::empty_like(x), at::empty({rows}, x.options().dtype(at::kFloat))};
  check_launch(axl_cuda_rms_norm_forward(launcher_dtype(x.scalar_type()), x.data_ptr(), w.data_ptr(),
                                         out.y.data_ptr(), out.inv_rms.data_ptr<float>(), rows, cols,
                                         static_cast<float>(eps), plus_one ? 1 : 0, current_stream(x.device())),
               "rms_norm_forward");
  return out;
}

RmsNormGrads rms_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                               const at::Tensor& inv_rms, bool plus_one) {
  const bool inv_ok = inv_rms.is_cuda() && inv_rms.scalar_type() == at::kFloat && inv_rms.is_contiguous() &&
                      inv_rms.numel() * x.size(-1) == x.numel();
  if (!inv_ok || !rms_norm_uses_kernel(x, w) || !kernel_tensors_ok({&x, &dy}) || dy.sizes() != x.sizes())
    return rms_norm_backward_reference(dy, x, w, inv_rms, plus_one);
  const int64_t cols = x.size(-1), rows = x.numel() / cols;
  at::Tensor dx = at::empty_like(x);
  at::Tensor partial = at::zeros({axl_cuda_rms_norm_backward_grid(rows), cols}, x.options().dtype(at::kFloat));
  check_launch(axl_cuda_rms_norm_backward(launcher_dtype(x.scalar_type()), dy.data_ptr(), x.data_ptr(), w.data_ptr(),
                                          inv_rms.data_ptr<float>(), dx.data_ptr(), partial.data_ptr<float>(), rows,
                                          cols, plus_one ? 1 : 0, current_stream(x.device())),
               "rms_norm_backward");
  return {dx, partial.sum(0).to(w.scalar_type())};
}

}  // namespace axl::kernels::cuda
