#include "axl/kernels/flash_varlen.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "axl/kernels/cuda_switch.h"
#include "axl/kernels/packed_attention.h"

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct VarlenWindow {
  std::optional<int64_t> left, right;
};

// q [T, H, D], k/v [T, Hkv, D] (flash-attn's varlen layout), cu_seqlens int32 on q's device.
struct FlashVarlen : public torch::autograd::Function<FlashVarlen> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& cu_seqlens, int64_t max_len, double scale, int64_t window) {
    const VarlenWindow w = window_of(window);
    auto [out, lse, rng_state, unused, debug] =
        at::_flash_attention_forward(q, k, v, cu_seqlens, cu_seqlens, max_len, max_len, /*dropout_p=*/0.0,
                                     /*is_causal=*/true, /*return_debug_mask=*/false, scale, w.left, w.right);
    (void)debug;
    ctx->save_for_backward({q, k, v, out, lse, cu_seqlens, rng_state, unused});
    ctx->saved_data["max_len"] = max_len;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["window"] = window;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto s = ctx->get_saved_variables();
    const int64_t max_len = ctx->saved_data["max_len"].toInt();
    const VarlenWindow w = window_of(ctx->saved_data["window"].toInt());
    auto [dq, dk, dv] = at::_flash_attention_backward(grad_out[0].contiguous(), s[0], s[1], s[2], s[3], s[4], s[5],
                                                      s[5], max_len, max_len, 0.0, true, s[6], s[7],
                                                      ctx->saved_data["scale"].toDouble(), w.left, w.right);
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }

  // Our window W (query i sees keys i - W < j <= i) is flash's (left W - 1, right 0).
  static VarlenWindow window_of(int64_t window) {
    if (window <= 0) return {};
    return {window - 1, 0};
  }
};

}  // namespace

bool can_use_flash_varlen(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionSpec& spec) {
  if (!q.is_cuda() || (q.scalar_type() != at::kBFloat16 && q.scalar_type() != at::kHalf)) return false;
  if (k.scalar_type() != q.scalar_type() || v.scalar_type() != q.scalar_type()) return false;
  const int64_t d = q.size(3);
  if (d % 8 != 0 || d > 256 || k.size(3) != d || v.size(3) != d || q.size(1) % k.size(1) != 0) return false;
  if (spec.softcap != 0.0 || spec.key_padding_mask.defined()) return false;
  return can_attend_per_segment(spec, q.size(0), q.size(2), k.size(2)) && cuda::enabled(cuda::Kernel::FlashVarlen);
}

at::Tensor flash_varlen_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  const AttentionSpec& spec) {
  const int64_t t = q.size(2), d = q.size(3);
  // The host copy of the boundaries (the model makes it once per forward: no sync here).
  const std::vector<int64_t> bounds = packed_segment_bounds(spec, t);
  int64_t max_len = 0;
  for (size_t i = 1; i < bounds.size(); ++i) max_len = std::max(max_len, bounds[i] - bounds[i - 1]);
  at::Tensor cu = spec.cu_seqlens.to(q.device(), at::kInt).contiguous();
  const double scale = spec.scale > 0 ? spec.scale : 1.0 / std::sqrt(static_cast<double>(d));
  // [1, H, T, D] -> [T, H, D]: a view when q came from [1, T, H, D].transpose(1, 2).
  auto varlen = [](const at::Tensor& x) {
    at::Tensor y = x.squeeze(0).transpose(0, 1);
    return y.stride(-1) == 1 ? y : y.contiguous();
  };
  at::Tensor out = FlashVarlen::apply(varlen(q), varlen(k), varlen(v), cu, max_len, scale, spec.sliding_window);
  return out.transpose(0, 1).unsqueeze(0);
}

}  // namespace axl::kernels
