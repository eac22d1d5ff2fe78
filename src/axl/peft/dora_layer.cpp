#include "axl/peft/dora_layer.h"

namespace axl::peft {

DoraLayer::DoraLayer(at::Tensor a, at::Tensor b, at::Tensor m, double scaling, double dropout)
    : LoraLayer(std::move(a), std::move(b), scaling, dropout), magnitude(std::move(m)) {}

at::Tensor DoraLayer::weight_norm(const at::Tensor& weight) const {
  at::NoGradGuard no_grad;
  const at::Tensor w = weight.to(lora_a.device(), at::kFloat);
  return at::linalg_vector_norm(w + delta_weight(), 2, {1}, /*keepdim=*/false, at::kFloat);
}

at::Tensor DoraLayer::forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) {
  const at::Tensor result = base(x);
  at::Tensor xa = x.to(lora_a.scalar_type());
  at::Tensor base_result;
  const at::Tensor weight = slot.base->dense_weight();
  if (training_ && dropout > 0) {
    // With dropout PEFT recomputes the base product on the dropped-out input (no bias).
    xa = at::dropout(xa, dropout, /*train=*/true);
    base_result = at::linear(xa, weight.to(xa.scalar_type()));
  } else {
    // Otherwise the result it already has, less the bias (it includes inner adapters, as PEFT's does).
    base_result = slot.bias.defined() ? result - slot.bias : result;
  }
  const at::Tensor scale = magnitude / weight_norm(weight);  // the norm is a constant for autograd
  const at::Tensor lora = at::linear(at::linear(xa, lora_a), lora_b);
  const at::Tensor dora = (scale - 1) * base_result + scale * lora * scaling;
  return (result + dora).to(result.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor*>> DoraLayer::tensors() {
  return {{"lora_A.weight", &lora_a}, {"lora_B.weight", &lora_b}, {"lora_magnitude_vector", &magnitude}};
}

at::Tensor DoraLayer::merged_weight(const at::Tensor& weight) const {
  at::NoGradGuard no_grad;
  const at::Tensor w = weight.to(lora_a.device(), at::kFloat) + delta_weight();
  const at::Tensor factor = magnitude.detach() / at::linalg_vector_norm(w, 2, {1}, false, at::kFloat);
  return (factor.unsqueeze(1) * w).to(weight.device(), weight.scalar_type());
}

}  // namespace axl::peft
