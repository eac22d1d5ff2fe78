#pragma once
// The LoRA SwiGLU MLP as one autograd node (Unsloth's LoRA_MLP idea, in ATen ops):
//   e = gate(x), g = up(x), h = silu(e) * g, y = down(h)
// with each projection a LowRankLinear. Backward keeps only x, e and g (plain autograd also
// keeps silu(e), h, the dropped inputs and the rank-r products): h is recomputed from e and g,
// and each projection's gradients come from lora_math::backward (no base-weight gradients).
#include <ATen/ATen.h>

#include "axl/kernels/lora_linear_function.h"

namespace axl::kernels {

// x [..., hidden] -> [..., hidden]; autograd reaches x and every A and B. Dropout multipliers
// are drawn in the unfused order (gate, up, then down's on h), so a fused and an unfused
// training step see the same masks.
at::Tensor lora_swiglu_mlp(const at::Tensor& x, const LowRankLinear& gate, const LowRankLinear& up,
                           const LowRankLinear& down);

// The same with plain autograd ops.
at::Tensor lora_swiglu_mlp_reference(const at::Tensor& x, const LowRankLinear& gate, const LowRankLinear& up,
                                     const LowRankLinear& down);

}  // namespace axl::kernels
