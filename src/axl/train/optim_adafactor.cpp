#include "axl/train/optim_adafactor.h"

#include <cmath>
#include <vector>

namespace axl::train {

namespace {

// Adafactor._rms: norm / sqrt(numel), as a 0-dim tensor (Tensor.norm(2) is
// linalg.vector_norm over all dimensions).
at::Tensor rms(const at::Tensor& t) {
  return at::linalg_vector_norm(t, 2, std::nullopt, false, std::nullopt) /
         std::pow(static_cast<double>(t.numel()), 0.5);
}

}  // namespace

void adafactor_step(const AdafactorHyper& h, const at::Tensor& param, ParamState& s) {
  at::Tensor grad = param.grad();
  const bool half = grad.scalar_type() == at::kHalf || grad.scalar_type() == at::kBFloat16;
  if (half) grad = grad.to(at::kFloat);
  const bool factored = grad.dim() >= 2;
  if (!s.exp_avg_sq.defined() && !s.exp_avg_sq_row.defined()) {
    if (factored) {
      std::vector<int64_t> row(grad.sizes().begin(), grad.sizes().end() - 1);
      std::vector<int64_t> col(grad.sizes().begin(), grad.sizes().end() - 2);
      col.push_back(grad.size(-1));
      s.exp_avg_sq_row = at::zeros(row, grad.options());
      s.exp_avg_sq_col = at::zeros(col, grad.options());
    } else {
      s.exp_avg_sq = at::zeros_like(grad);
    }
  }
  at::Tensor p32 = param.scalar_type() == at::kHalf || param.scalar_type() == at::kBFloat16 ? param.to(at::kFloat) : param;
  s.step += 1;
  const double lr = 1.0 * h.lr;  // param_scale is 1 without scale_parameter
  const double beta2t = 1.0 - std::pow(static_cast<double>(s.step), h.decay_rate);
  at::Tensor update = grad.pow(2) + h.eps1;
  if (factored) {
    s.exp_avg_sq_row.mul_(beta2t).add_(update.mean({-1}), 1.0 - beta2t);
    s.exp_avg_sq_col.mul_(beta2t).add_(update.mean({-2}), 1.0 - beta2t);
    at::Tensor r_factor = (s.exp_avg_sq_row / s.exp_avg_sq_row.mean({-1}, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
    at::Tensor c_factor = s.exp_avg_sq_col.unsqueeze(-2).rsqrt();
    update = at::mul(r_factor, c_factor);
    update.mul_(grad);
  } else {
    s.exp_avg_sq.mul_(beta2t).add_(update, 1.0 - beta2t);
    update = s.exp_avg_sq.rsqrt().mul_(grad);
  }
  update.div_((rms(update) / h.clip_threshold).clamp_(1.0));
  update.mul_(lr);
  if (h.weight_decay != 0) p32.add_(p32, -h.weight_decay * lr);
  p32.add_(-update);
  if (!p32.is_same(param)) param.copy_(p32);
}

}  // namespace axl::train
