#pragma once
// One BOFT layer with one butterfly factor (what PEFT computes without its CUDA extension):
// the input features are rotated by R = block_diag(Q_1..Q_n), Q_i = Cayley((R_i - R_i^T) / 2)
// from boft_R [1, n, b, b], and the output rows scaled by boft_s [out, 1]; the bias is neither:
// y = (x R W^T) * s + bias, i.e. the weight W' = diag(s) W R^T. Parameters stay float32.
#include "axl/peft/adapter.h"

namespace axl::peft {

class BoftLayer : public AdapterLayer {
 public:
  BoftLayer(at::Tensor boft_r, at::Tensor boft_s, double dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override {
    return {{"boft_R", &boft_r}, {"boft_s", &boft_s}};
  }
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  at::Tensor rotation_blocks() const;  // [n, b, b]

  at::Tensor boft_r, boft_s;
  double dropout;

 private:
  bool training_ = false;
};

}  // namespace axl::peft
