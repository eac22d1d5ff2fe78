#include "axl/kernels/rms_norm_function.h"

#include <torch/csrc/autograd/custom_function.h>

#include <tuple>

#include "axl/kernels/rms_norm_cuda.h"

namespace axl::kernels {

namespace rms_norm_math {

std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x, const at::Tensor& weight, double eps, bool plus_one) {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor inv = at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  const at::Tensor n = xf * inv;
  if (plus_one) return {(n * (1.0 + weight.to(at::kFloat))).to(x.scalar_type()), inv};
  return {weight * n.to(x.scalar_type()), inv};
}

std::pair<at::Tensor, at::Tensor> backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight,
                                           const at::Tensor& inv, bool plus_one, bool need_dweight) {
  const at::Tensor n = x.to(at::kFloat) * inv;  // recomputed from x and the saved inverse RMS
  // Rows of every leading dimension together: the weight's gradient sums over all of them.
  auto row_sum = [&](const at::Tensor& t) { return t.reshape({-1, t.size(-1)}).sum(0); };
  at::Tensor dn, dw;
  if (plus_one) {
    const at::Tensor dyf = dy.to(at::kFloat);
    dn = dyf * (1.0 + weight.to(at::kFloat));
    if (need_dweight) dw = row_sum(dyf * n).to(weight.scalar_type());
  } else {
    // y = w * cast(n): the cast's gradient goes back through x's dtype, as autograd's does.
    dn = (dy * weight).to(x.scalar_type()).to(at::kFloat);
    if (need_dweight) dw = row_sum(dy * n.to(x.scalar_type())).to(weight.scalar_type());
  }
  const at::Tensor dx = inv * (dn - n * (dn * n).mean(-1, /*keepdim=*/true));
  return {dx.to(x.scalar_type()), dw};
}

}  // namespace rms_norm_math

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, double eps,
                            bool plus_one) {
    // The CUDA kernel (when switched on and the tensors suit it) keeps inv_rms as [rows].
    const bool kernel = cuda::rms_norm_uses_kernel(x, weight);
    at::Tensor y, inv;
    if (kernel) {
      cuda::RmsNormForward f = cuda::rms_norm_forward(x, weight, eps, plus_one);
      y = f.y, inv = f.inv_rms;
    } else {
      std::tie(y, inv) = rms_norm_math::forward(x, weight, eps, plus_one);
    }
    ctx->save_for_backward({x, weight, inv});
    ctx->saved_data["plus_one"] = plus_one;
    ctx->saved_data["kernel"] = kernel;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list s = ctx->get_saved_variables();
    const bool plus_one = ctx->saved_data["plus_one"].toBool();
    if (ctx->saved_data["kernel"].toBool()) {
      // Falls back to the ATen math itself when the gradient is not contiguous.
      cuda::RmsNormGrads g = cuda::rms_norm_backward(grad_outputs[0], s[0], s[1], s[2], plus_one);
      return {g.dx, ctx->needs_input_grad(1) ? g.dw : at::Tensor(), at::Tensor(), at::Tensor()};
    }
    auto [dx, dw] = rms_norm_math::backward(grad_outputs[0], s[0], s[1], s[2], plus_one, ctx->needs_input_grad(1));
    return {dx, dw, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor rms_norm_fused(const at::Tensor& x, const at::Tensor& weight, double eps, bool plus_one) {
  return RmsNormFunction::apply(x, weight, eps, plus_one);
}

}  // namespace axl::kernels
