#pragma once
// DoRA (weight-decomposed LoRA; PEFT: LoRA with use_dora): the adapted weight is
// m * (W + s B A) / ||W + s B A||_row, with a learned magnitude m per output row. As in PEFT
// (and the paper's section 4.3) the row norm is treated as a constant in the backward pass.
#include "axl/peft/lora_layer.h"

namespace axl::peft {

class DoraLayer : public LoraLayer {
 public:
  DoraLayer(at::Tensor lora_a, at::Tensor lora_b, at::Tensor magnitude, double scaling, double dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  // DoRA rescales the output: not a plain low-rank update, so never fused.
  std::optional<models::LowRankUpdate> low_rank_update() const override { return std::nullopt; }

  // ||W + s B A|| per output row of the slot's [out, in] weight, float32, without gradient:
  // the magnitude PEFT initialises with (so a fresh DoRA adapter changes nothing) and the
  // denominator of the forward pass.
  at::Tensor weight_norm(const at::Tensor& weight) const;

  at::Tensor magnitude;  // [out], float32, PEFT's lora_magnitude_vector
};

}  // namespace axl::peft
