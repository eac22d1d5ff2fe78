#pragma once
// OFT as PEFT <= 0.13 computed it (the fixtures' PEFT 0.12): the layer's output features are
// rotated, y = (x W^T) R + bias with R = block_diag(Q_1..Q_r) cut to [out, out], blocks of
// b = ceil(out / r), Q_i = Cayley((oft_r[i] - oft_r[i]^T) / 2). The bias is not rotated.
// PEFT 0.19.1 refuses these files; their function cannot be written in its format (an output
// rotation is no input rotation), so such an adapter is saved back in its own format.
#include "axl/peft/adapter.h"

namespace axl::peft {

class LegacyOftLayer : public AdapterLayer {
 public:
  // `oft_r` [r (1 when block_share), b, b]; `blocks` = r.
  LegacyOftLayer(at::Tensor oft_r, int64_t blocks, bool coft, double eps, double module_dropout);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override { return {{"oft_r", &oft_r}}; }
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  // R cut to [out, out].
  at::Tensor rotation(int64_t out) const;

  at::Tensor oft_r;
  int64_t blocks;
  bool coft;
  double eps;
  double module_dropout;

 private:
  bool training_ = false;
};

}  // namespace axl::peft
