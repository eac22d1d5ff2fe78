#pragma once
// One VeRA layer: y = base(x) + lambda_b * ((lambda_d * (x A^T)) B^T), with A = vera_A[:, :in]
// and B = vera_B[:out, :] slices of the adapter's shared frozen projections and trainable
// vectors vera_lambda_d [r], vera_lambda_b [out]; dW = diag(lambda_b) B diag(lambda_d) A.
// Everything float32, the input cast to it, as PEFT does.
#include "axl/peft/adapter.h"

namespace axl::peft {

class VeraLayer : public AdapterLayer {
 public:
  // `vera_a` [r, >= in] and `vera_b` [>= out, r] are the shared tensors (handles, not copies:
  // loading the stored projections into them reaches every layer).
  VeraLayer(at::Tensor vera_a, at::Tensor vera_b, at::Tensor lambda_d, at::Tensor lambda_b, int64_t in_features,
            double dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override {
    return {{"vera_lambda_b", &lambda_b}, {"vera_lambda_d", &lambda_d}};
  }
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  at::Tensor delta_weight() const;  // [out, in], float32

  at::Tensor vera_a, vera_b, lambda_d, lambda_b;
  int64_t in_features;
  double dropout;

 private:
  bool training_ = false;
};

}  // namespace axl::peft
