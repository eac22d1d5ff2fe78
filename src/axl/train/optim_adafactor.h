#pragma once
// transformers.optimization.Adafactor as HF's Trainer builds it for `optimizer: adafactor`:
// lr = learning_rate, scale_parameter=False, relative_step=False, warmup_init=False, and the
// class defaults eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8, beta1=None (no first
// moment). Tensors of rank >= 2 keep factored second moments (a row and a column vector);
// others a full one. Weight decay: p += -wd*lr * p. Op for op as transformers runs it.
#include <ATen/ATen.h>

#include "axl/train/optimizer.h"

namespace axl::train {

struct AdafactorHyper {
  double lr = 0, weight_decay = 0;
  double eps1 = 1e-30, clip_threshold = 1.0, decay_rate = -0.8;
};

void adafactor_step(const AdafactorHyper& h, const at::Tensor& param, ParamState& s);

}  // namespace axl::train
