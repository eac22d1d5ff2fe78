#pragma once
// The LoRA gated MLP as one autograd node (Unsloth's LoRA_MLP idea, in ATen ops):
//   e = gate(x), g = up(x), h = act(e) * g, y = down(h)
// with each projection a LowRankLinear and act SiLU (SwiGLU: Llama, Mistral, Qwen) or GELU
// (GeGLU: Gemma's tanh form). Gate and up may be one merged projection whose output's first
// half is the gate (Phi-3's gate_up_proj). Backward keeps only x, e and g (plain autograd also
// keeps act(e), h, the dropped inputs and the rank-r products): h is recomputed from e and g,
// and each projection's gradients come from lora_math::backward (no base-weight gradients).
// SwiGLU goes through the CUDA kernel (kernels/swiglu_cuda.h) when it is switched on.
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

#include "axl/kernels/lora_linear_function.h"

namespace axl::kernels {

enum class GatedActivation { Silu, GeluTanh, Gelu };

// The activation of a config.json hidden_act name, or nullopt when the fused MLP has none for
// it (relu, ...): those keep the plain path.
std::optional<GatedActivation> gated_activation(const std::string& hidden_act);
// act(e) in e's dtype: at::silu, or at::gelu with the tanh approximation or exact.
at::Tensor apply_activation(const at::Tensor& e, GatedActivation act);

// x [..., hidden] -> [..., hidden]; `gate_up` is {gate, up} or {merged gate_up}. Autograd
// reaches x and every A and B. Dropout multipliers are drawn in the unfused order (gate, up,
// then down's on h), so a fused and an unfused training step see the same masks.
at::Tensor lora_gated_mlp(const at::Tensor& x, const std::vector<LowRankLinear>& gate_up, const LowRankLinear& down,
                          GatedActivation act = GatedActivation::Silu);

// The same with plain autograd ops.
at::Tensor lora_gated_mlp_reference(const at::Tensor& x, const std::vector<LowRankLinear>& gate_up,
                                    const LowRankLinear& down, GatedActivation act = GatedActivation::Silu);

}  // namespace axl::kernels
