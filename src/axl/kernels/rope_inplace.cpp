#include "axl/kernels/rope_inplace.h"

#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>

#include "axl/kernels/rope_cuda.h"

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rotates t [B, T, H, D] in place: (t1, t2) -> (t1 c - t2 s, t2 c + t1 s) on the first rot
// features; `direction` -1 applies the inverse rotation (the transpose).
void rotate_(const at::Tensor& t, const at::Tensor& cos, const at::Tensor& sin, double direction) {
  const int64_t rot = cos.size(-1), half = rot / 2;
  at::Tensor cos_t = cos.to(t.scalar_type()), sin_t = sin.to(t.scalar_type());
  if (t.is_cuda()) {
    // The CUDA kernel, when switched on, takes [B, H, T, D] with any strides: a permuted view.
    at::Tensor heads_first = t.permute({0, 2, 1, 3});
    cos_t = cos_t.contiguous(), sin_t = sin_t.contiguous();
    if (cuda::rope_uses_kernel(heads_first, cos_t, sin_t)) {
      if (direction > 0) cuda::rope_forward_(heads_first, cos_t, sin_t);
      else cuda::rope_backward_(heads_first, cos_t, sin_t);
      return;
    }
  }
  const at::Tensor c = cos_t.unsqueeze(2), s = sin_t.unsqueeze(2);
  at::Tensor t1 = t.narrow(-1, 0, half), t2 = t.narrow(-1, half, half);
  const at::Tensor t1_before = t1.clone();
  t1.mul_(c.narrow(-1, 0, half)).addcmul_(t2, s.narrow(-1, 0, half), -direction);
  t2.mul_(c.narrow(-1, half, half)).addcmul_(t1_before, s.narrow(-1, half, half), direction);
}

class RopeInPlace : public torch::autograd::Function<RopeInPlace> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, int64_t head_dim, const at::Tensor& cos,
                            const at::Tensor& sin) {
    rotate_(heads_view(x, head_dim), cos, sin, 1.0);
    ctx->mark_dirty({x});
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    ctx->saved_data["head_dim"] = head_dim;
    return x;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // A fresh copy: the incoming gradient may be shared with other nodes.
    at::Tensor grad = grad_outputs[0].contiguous().clone();
    rotate_(heads_view(grad, ctx->saved_data["head_dim"].toInt()), ctx->saved_data["cos"].toTensor(),
            ctx->saved_data["sin"].toTensor(), -1.0);
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }

 private:
  static at::Tensor heads_view(const at::Tensor& x, int64_t head_dim) {
    return x.view({x.size(0), x.size(1), x.size(2) / head_dim, head_dim});
  }
};

}  // namespace

bool can_rotate_in_place(const at::Tensor& x) { return x.is_contiguous() && !x.is_view(); }

at::Tensor apply_rope_inplace_(const at::Tensor& x, int64_t head_dim, const at::Tensor& cos, const at::Tensor& sin) {
  if (x.dim() != 3 || head_dim <= 0 || x.size(2) % head_dim != 0 || cos.dim() != 3 || cos.size(-1) > head_dim ||
      cos.size(-1) % 2 != 0 || cos.size(1) != x.size(1))
    throw std::invalid_argument("apply_rope_inplace_: x [B, T, heads * head_dim], cos/sin [B, T, rot <= head_dim]");
  if (!can_rotate_in_place(x))
    throw std::invalid_argument("apply_rope_inplace_: x must be contiguous and not a view (copy it first)");
  return RopeInPlace::apply(x, head_dim, cos, sin);
}

}  // namespace axl::kernels
