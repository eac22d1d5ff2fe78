#include "axl/peft/vera_layer.h"

namespace axl::peft {

VeraLayer::VeraLayer(at::Tensor a, at::Tensor b, at::Tensor d, at::Tensor bvec, int64_t in, double p)
    : vera_a(std::move(a)), vera_b(std::move(b)), lambda_d(std::move(d)), lambda_b(std::move(bvec)),
      in_features(in), dropout(p) {}

at::Tensor VeraLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  at::Tensor result = base(x);
  const int64_t out = lambda_b.size(0);
  at::Tensor xv = x.to(lambda_d.scalar_type());
  if (training_ && dropout > 0) xv = at::dropout(xv, dropout, /*train=*/true);
  const at::Tensor a = vera_a.slice(1, 0, in_features);
  const at::Tensor b = vera_b.slice(0, 0, out);
  const at::Tensor delta = lambda_b * at::linear(lambda_d * at::linear(xv, a), b);
  return (result.to(delta.scalar_type()) + delta).to(result.scalar_type());
}

at::Tensor VeraLayer::delta_weight() const {
  const int64_t out = lambda_b.size(0);
  const at::Tensor a = vera_a.slice(1, 0, in_features).to(at::kFloat);
  const at::Tensor b = vera_b.slice(0, 0, out).to(at::kFloat);
  return at::matmul(lambda_b.to(at::kFloat).unsqueeze(-1) * b, lambda_d.to(at::kFloat).unsqueeze(-1) * a);
}

at::Tensor VeraLayer::merged_weight(const at::Tensor& w) const {
  return (w.to(at::kFloat) + delta_weight().to(w.device())).to(w.scalar_type());
}

}  // namespace axl::peft
