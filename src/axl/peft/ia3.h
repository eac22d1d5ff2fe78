#pragma once
// (IA)^3: a learned vector rescales each target layer. Feed-forward layers scale their INPUT
// per input feature (ia3_l [1, in]), the others their OUTPUT per output feature (ia3_l
// [out, 1], bias included). The vector stays float32 whatever the base dtype, as PEFT keeps it.
#include <cstdint>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/ia3_config.h"

namespace axl::peft {

class Ia3Layer : public AdapterLayer {
 public:
  Ia3Layer(at::Tensor ia3_l, bool feedforward) : ia3_l(std::move(ia3_l)), feedforward(feedforward) {}

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override { return {{"ia3_l", &ia3_l}}; }
  // W scaled by column (feed-forward) or by row; in float32, then back to W's dtype.
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  // PEFT scales the bias with the output vector; a feed-forward layer's bias is unchanged.
  at::Tensor merged_bias(const at::Tensor& bias) const override;
  void set_training(bool) override {}  // (IA)^3 has no dropout

  at::Tensor ia3_l;
  bool feedforward;
};

// Attaches (IA)^3; fills target_modules / feedforward_modules from the model type when unset.
Adapter attach_ia3(models::CausalLM& model, const Ia3Config& config, uint64_t seed = 0);

}  // namespace axl::peft
