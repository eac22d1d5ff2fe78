#pragma once
// One AdaLoRA layer (PEFT's SVDLinear): y = base(x) + (x (A * E)^T) B^T * scaling / (ranknum + 1e-5),
// with A [r, in] (right singular vectors), E [r, 1] (singular values), B [out, r] (left),
// float32 whatever the base dtype. ranknum is the rank the layer was created with (init_r),
// kept when a saved adapter's rank_pattern shrinks the tensors, as PEFT keeps it.
#include "axl/peft/adapter.h"

namespace axl::peft {

class AdaLoraLayer : public AdapterLayer {
 public:
  AdaLoraLayer(at::Tensor lora_a, at::Tensor lora_e, at::Tensor lora_b, double scaling, int64_t ranknum,
               double dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  // PEFT saves the triplets the rank allocator kept (its rank_pattern): while `kept` drops some,
  // these are copies of the kept rows, not the live tensors.
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  // B (A * E) * scaling / (ranknum + 1e-5), [out, in], float32.
  at::Tensor delta_weight() const;
  // The allocator's mask (bool [r]); undefined: every triplet is kept.
  void set_kept(at::Tensor kept) { kept_ = std::move(kept); }
  const at::Tensor& kept() const { return kept_; }
  bool drops_triplets() const;

  at::Tensor lora_a, lora_e, lora_b;  // live, trainable, full rank while training
  double scaling;
  int64_t ranknum;
  double dropout;

 private:
  at::Tensor kept_;
  at::Tensor saved_a_, saved_e_, saved_b_;  // tensors()'s copies of the kept rows
  bool training_ = false;
};

}  // namespace axl::peft
