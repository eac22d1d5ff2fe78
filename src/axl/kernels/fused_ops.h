#pragma once
// Which Unsloth-style fused autograd functions a training forward uses (all off: the plain
// autograd path, which generation and evaluation keep). Each produces the same numbers as the
// plain path (tests/kernels/test_fused_functions.cpp); they change what backward keeps.
namespace axl::kernels {

struct FusedOps {
  bool lora_mlp = false;   // gate/up/down with SwiGLU as one node (lora_mlp_function.h)
  bool lora_qkv = false;   // q/k/v (or a fused qkv) as one node (lora_linear_function.h)
  bool lora_o = false;     // o_proj as one node
  bool rope = false;       // RoPE in place on the projections' outputs (rope_inplace.h)
  bool rms_norm = false;   // RMSNorm keeping only the inverse RMS (rms_norm_function.h)
  bool any() const { return lora_mlp || lora_qkv || lora_o || rope || rms_norm; }
};

}  // namespace axl::kernels
