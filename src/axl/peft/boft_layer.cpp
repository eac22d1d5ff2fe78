#include "axl/peft/boft_layer.h"

#include "axl/peft/cayley.h"

namespace axl::peft {

BoftLayer::BoftLayer(at::Tensor r, at::Tensor s, double p) : boft_r(std::move(r)), boft_s(std::move(s)), dropout(p) {}

at::Tensor BoftLayer::rotation_blocks() const {
  const int64_t b = boft_r.size(-1);
  return cayley(skew_part(boft_r.reshape({-1, b, b})));
}

at::Tensor BoftLayer::forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) {
  at::Tensor q = rotation_blocks();
  if (training_ && dropout > 0) q = drop_blocks_to_identity(q, dropout);
  at::Tensor y = base(rotate_blocks(x.to(boft_r.scalar_type()), q).to(x.scalar_type()));
  const auto dtype = y.scalar_type();
  const at::Tensor s = boft_s.view({-1});
  at::Tensor out = y.to(boft_s.scalar_type());
  // The bias is added after the scaling in PEFT: scale only x R W^T.
  if (slot.bias.defined()) {
    const at::Tensor bias = slot.bias.to(out.scalar_type());
    out = (out - bias) * s + bias;
  } else {
    out = out * s;
  }
  return out.to(dtype);
}

at::Tensor BoftLayer::merged_weight(const at::Tensor& w) const {
  const at::Tensor r = block_diagonal(rotation_blocks()).to(w.device());
  return (at::matmul(w.to(at::kFloat), r.t()) * boft_s.to(w.device())).to(w.scalar_type());
}

}  // namespace axl::peft
