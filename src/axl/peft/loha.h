#pragma once
// LoHa (low-rank Hadamard product): a target layer adds x dW^T with
// dW = scaling * (w1_a @ w1_b) * (w2_a @ w2_b), w?_a [out, r], w?_b [r, in], scaling = alpha / r.
// Training only: rank_dropout drops rows of dW (the kept ones rescaled by 1 / their mean, as
// PEFT always does for LoHa) and module_dropout skips the adapter for a whole forward.
#include <cstdint>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/lycoris_config.h"

namespace axl::peft {

class LohaLayer : public AdapterLayer {
 public:
  LohaLayer(at::Tensor w1_a, at::Tensor w1_b, at::Tensor w2_a, at::Tensor w2_b, double scaling, double rank_dropout,
            double module_dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  at::Tensor delta_weight() const;  // dW [out, in], float32, without dropout

  at::Tensor w1_a, w1_b, w2_a, w2_b;
  double scaling, rank_dropout, module_dropout;

 private:
  bool training_ = false;
};

Adapter attach_loha(models::CausalLM& model, const LohaConfig& config, uint64_t seed = 0);

// Shared by the LyCORIS methods: PEFT's row dropout of a delta weight and the module dropout
// coin (true: run the adapter this forward).
at::Tensor drop_delta_rows(const at::Tensor& delta, double rank_dropout, bool rescale);
bool keep_module(double module_dropout);
// nn.init.kaiming_uniform_(a=sqrt(5)) on a 2-D tensor: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void kaiming_uniform_like_linear(at::Tensor& t, at::Generator& gen);

}  // namespace axl::peft
