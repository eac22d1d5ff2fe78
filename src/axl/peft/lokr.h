#pragma once
// LoKr (Kronecker product): a target layer adds x dW^T with dW = scaling * kron(w1, w2),
// out = a*b and in = c*d factored as PEFT's factorization() does, w1 [a, c], w2 [b, d].
// w2 is stored as w2_a [b, r] @ w2_b [r, d] when r < max(b, d) / 2, else whole; w1 likewise
// (w1_a [a, r] @ w1_b [r, c]) only with decompose_both. scaling = alpha / r (PEFT >= 0.14; the
// 0.12 form is read by LokrConfig::from_json as alpha = r).
#include <cstdint>
#include <utility>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/lycoris_config.h"

namespace axl::peft {

// PEFT's factorization(dimension, factor): (m, n) with m * n = dimension, m <= n; with factor
// -1 the pair closest to the square root, else m = factor when it divides, else the most
// balanced pair with m <= factor.
std::pair<int64_t, int64_t> lokr_factorization(int64_t dimension, int64_t factor = -1);

class LokrLayer : public AdapterLayer {
 public:
  // Either w1 or (w1_a, w1_b) is defined, and either w2 or (w2_a, w2_b).
  struct Factors {
    at::Tensor w1, w1_a, w1_b, w2, w2_a, w2_b;
  };
  LokrLayer(Factors factors, double scaling, double rank_dropout, bool rank_dropout_scale, double module_dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  at::Tensor delta_weight() const;  // dW [out, in], float32, without dropout

  Factors f;
  double scaling, rank_dropout;
  bool rank_dropout_scale;
  double module_dropout;

 private:
  bool training_ = false;
};

Adapter attach_lokr(models::CausalLM& model, const LokrConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
