#pragma once
// One OFT layer (PEFT 0.19.1): the input features are rotated by a block-diagonal orthogonal
// matrix before the base layer, y = base(x R), R = block_diag(Q_1..Q_r). Each Q_i comes from
// the packed skew parameters by the Cayley transform (exact, or PEFT's Neumann series).
// oft_R.weight stays float32; x is rotated in float32 and cast back, as PEFT does.
#include "axl/peft/adapter.h"

namespace axl::peft {

struct OftSettings {
  int64_t block_size = 0;
  int64_t blocks = 0;  // r: blocks across in_features
  bool block_share = false;  // one block's parameters for all blocks
  bool coft = false;
  double eps = 6e-5;
  bool use_cayley_neumann = true;
  int64_t neumann_terms = 5;
  double module_dropout = 0.0;
};

class OftLayer : public AdapterLayer {
 public:
  // `weight` [blocks (1 when block_share), b(b-1)/2].
  OftLayer(at::Tensor weight, OftSettings settings);

  at::Tensor forward(const at::Tensor& x, const models::LinearSlot& slot, const BaseFn& base) override;
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override { return {{"oft_R.weight", &weight}}; }
  at::Tensor merged_weight(const at::Tensor& weight) const override;
  void set_training(bool training) override { training_ = training; }

  // The orthogonal blocks [blocks, b, b] (COFT projects the parameters in place first, as PEFT).
  at::Tensor rotation_blocks() const;

  at::Tensor weight;
  OftSettings settings;

 private:
  bool training_ = false;
};

}  // namespace axl::peft
