#pragma once
// One LoRA layer in one slot: y = base(x) + scaling * B(A(dropout(x))), with A [r, in] and
// B [out, r] kept in float32 (PEFT's autocast of adapter weights) whatever the base dtype.
#include "axl/peft/adapter.h"

namespace axl::peft {

class LoraLayer : public AdapterLayer {
 public:
  LoraLayer(at::Tensor lora_a, at::Tensor lora_b, double scaling, double dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }
  // y = base(x) + scaling * B A dropout(x): the fused LoRA functions may run this slot.
  std::optional<models::LowRankUpdate> low_rank_update() const override {
    return models::LowRankUpdate{lora_a, lora_b, scaling, training_ ? dropout : 0.0};
  }

  // scaling * B A in the slot's [out, in] layout, float32. Our slots always hold [out, in]
  // (GPT-2's Conv1D weights are transposed on load), so fan_in_fan_out needs no transpose
  // here; it matters only where weights are written back in Conv1D layout.
  at::Tensor delta_weight() const;

  at::Tensor lora_a, lora_b;
  double scaling;
  double dropout;

 protected:
  bool training_ = false;
};

}  // namespace axl::peft
