#include "axl/peft/oft_legacy_layer.h"

#include "axl/peft/cayley.h"

namespace axl::peft {

LegacyOftLayer::LegacyOftLayer(at::Tensor r, int64_t n, bool coft, double eps, double dropout)
    : oft_r(std::move(r)), blocks(n), coft(coft), eps(eps), module_dropout(dropout) {}

at::Tensor LegacyOftLayer::rotation(int64_t out) const {
  if (coft) {
    // PEFT 0.12 projected the raw blocks in place before each use.
    at::NoGradGuard no_grad;
    at::Tensor w = oft_r;
    w.copy_(coft_project(oft_r, eps));
  }
  at::Tensor q = cayley(skew_part(oft_r));
  if (q.size(0) == 1 && blocks > 1) q = q.expand({blocks, q.size(1), q.size(2)});
  return block_diagonal(q).slice(0, 0, out).slice(1, 0, out);
}

at::Tensor LegacyOftLayer::forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) {
  at::Tensor result = base(x);
  // PEFT 0.12's module dropout skipped the whole rotation with probability p in training.
  if (training_ && module_dropout > 0 && at::rand({1}).item<double>() <= module_dropout) return result;
  at::Tensor y = result.to(oft_r.scalar_type());
  if (slot.bias.defined()) y = y - slot.bias.to(y.scalar_type());
  y = at::matmul(y, rotation(result.size(-1)));
  if (slot.bias.defined()) y = y + slot.bias.to(y.scalar_type());
  return y.to(result.scalar_type());
}

at::Tensor LegacyOftLayer::merged_weight(const at::Tensor& w) const {
  // y = x W^T R: the merged weight is R^T W.
  const at::Tensor r = rotation(w.size(0)).to(w.device());
  return at::matmul(r.t(), w.to(at::kFloat)).to(w.scalar_type());
}

}  // namespace axl::peft
