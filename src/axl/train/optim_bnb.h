#pragma once
// bitsandbytes' AdamW and Lion (what HF's Trainer builds for adamw_bnb_8bit / adamw_8bit /
// paged_adamw_8bit / paged_adamw_32bit and lion_8bit / lion_32bit / paged_lion_*), with the
// numerics of bitsandbytes' CPU kernels op for op:
// - 8-bit: tensors of at least 4096 elements keep blockwise 8-bit states (optim_8bit_state.h),
//   dequantised, updated in float32 and re-quantised every step; smaller ones (and embeddings,
//   which HF's Trainer overrides to 32 bits) keep float32 states and take the 32-bit update.
// - 32-bit AdamW folds the bias corrections differently from torch.optim.AdamW
//   (step = -lr*sqrt(c2)/c1, denominator sqrt(v) + eps*sqrt(c2)), as bitsandbytes does.
// Weight decay is decoupled (p *= 1 - lr*wd) and applied only when wd > 0.
// Paged variants keep their states in host memory and move them to the parameter's device
// for each step; on CPU they are their unpaged twins.
#include <ATen/ATen.h>

#include "axl/train/optimizer.h"

namespace axl::train {

struct BnbHyper {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
};

enum class BnbAlgorithm { Adam, Lion };

// True when `p` gets 8-bit states under an 8-bit optimizer: at least 4096 elements and not an
// input embedding (HF's Trainer registers nn.Embedding weights for 32-bit states).
bool uses_8bit_state(const std::string& name, const at::Tensor& p);

// One step of `param` (its .grad()); `s` holds states in host memory when `paged`.
void bnb_step(BnbAlgorithm algo, bool eight_bit, bool paged, const BnbHyper& h, const std::string& name,
              const at::Tensor& param, ParamState& s);

}  // namespace axl::train
