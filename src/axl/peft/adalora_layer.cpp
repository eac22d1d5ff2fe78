#include "axl/peft/adalora_layer.h"

namespace axl::peft {

AdaLoraLayer::AdaLoraLayer(at::Tensor a, at::Tensor e, at::Tensor b, double scaling, int64_t ranknum, double dropout)
    : lora_a(std::move(a)), lora_e(std::move(e)), lora_b(std::move(b)), scaling(scaling), ranknum(ranknum),
      dropout(dropout) {}

namespace {

// PEFT adds 1e-5 to the float32 ranknum parameter, so the sum is rounded to float32.
float ranknum_eps(int64_t ranknum) { return static_cast<float>(ranknum) + 1e-5f; }

}  // namespace

bool AdaLoraLayer::drops_triplets() const {
  return kept_.defined() && kept_.sum().item<int64_t>() < lora_e.size(0);
}

at::Tensor AdaLoraLayer::forward(const at::Tensor& x, const models::LinearSlot&, const BaseFn& base) {
  const at::Tensor result = base(x);
  at::Tensor xa = x.to(lora_a.scalar_type());
  if (training_ && dropout > 0) xa = at::dropout(xa, dropout, /*train=*/true);
  at::Tensor a = lora_a, e = lora_e, b = lora_b;
  if (!training_ && drops_triplets()) {
    // Outside training compute with the kept triplets only, exactly as the saved adapter will
    // (the dropped ones are zero in E: the same values, the same GEMM shapes).
    const at::Tensor idx = kept_.nonzero().view(-1);
    a = a.index_select(0, idx);
    e = e.index_select(0, idx);
    b = b.index_select(1, idx);
  }
  const at::Tensor delta = at::linear(at::linear(xa, a * e), b).mul(scaling).div(ranknum_eps(ranknum));
  return (result.to(delta.scalar_type()) + delta).to(result.scalar_type());
}

std::vector<std::pair<std::string, at::Tensor*>> AdaLoraLayer::tensors() {
  if (!drops_triplets()) return {{"lora_A", &lora_a}, {"lora_B", &lora_b}, {"lora_E", &lora_e}};
  at::NoGradGuard no_grad;
  const at::Tensor idx = kept_.nonzero().view(-1);
  saved_a_ = lora_a.index_select(0, idx).requires_grad_(lora_a.requires_grad());
  saved_e_ = lora_e.index_select(0, idx).requires_grad_(lora_e.requires_grad());
  saved_b_ = lora_b.index_select(1, idx).requires_grad_(lora_b.requires_grad());
  return {{"lora_A", &saved_a_}, {"lora_B", &saved_b_}, {"lora_E", &saved_e_}};
}

at::Tensor AdaLoraLayer::delta_weight() const {
  return at::matmul(lora_b.to(at::kFloat), lora_a.to(at::kFloat) * lora_e.to(at::kFloat)).mul(scaling).div(
      ranknum_eps(ranknum));
}

at::Tensor AdaLoraLayer::merged_weight(const at::Tensor& weight) const {
  at::NoGradGuard no_grad;
  return (weight.to(at::kFloat) + delta_weight().to(weight.device())).to(weight.scalar_type());
}

}  // namespace axl::peft
