#include "axl/peft/lora_layer.h"

namespace axl::peft {

LoraLayer::LoraLayer(at::Tensor a, at::Tensor b, double scaling, double dropout)
    : lora_a(std::move(a)), lora_b(std::move(b)), scaling(scaling), dropout(dropout) {}

at::Tensor LoraLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  at::Tensor result = base(x);
  at::Tensor xa = x.to(lora_a.scalar_type());
  // Dropout acts on the LoRA branch's input only; the base sees the clean x.
  if (training_ && dropout > 0) xa = at::dropout(xa, dropout, /*train=*/true);
  // result + scaling * (x A^T) B^T as one GEMM with alpha/beta: no full-width temporaries for
  // the scaled delta and the sum (nor their gradients); the product is the rank-r one.
  const at::Tensor down = at::linear(xa, lora_a);
  const int64_t out = result.size(-1);
  at::Tensor sum = at::addmm(result.to(lora_b.scalar_type()).reshape({-1, out}),
                             down.reshape({-1, lora_a.size(0)}), lora_b.t(), /*beta=*/1, /*alpha=*/scaling);
  return sum.view(result.sizes()).to(result.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor*>> LoraLayer::tensors() {
  return {{"lora_A.weight", &lora_a}, {"lora_B.weight", &lora_b}};
}

at::Tensor LoraLayer::delta_weight() const {
  return at::matmul(lora_b.to(at::kFloat), lora_a.to(at::kFloat)) * scaling;
}

at::Tensor LoraLayer::merged_weight(const at::Tensor& weight) const {
  // In float32 then back, as PEFT does for half-precision weights on the CPU.
  return (weight.to(at::kFloat) + delta_weight().to(weight.device())).to(weight.scalar_type());
}

}  // namespace axl::peft
