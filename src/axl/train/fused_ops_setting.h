#pragma once
// Which fused autograd functions a training run uses, from Axolotl's keys
// lora_mlp_kernel / lora_qkv_kernel / lora_o_kernel (resolved in config/lora_kernel_keys.h). The fused
// functions run only on slots holding one plain LoRA (no DoRA, no trainable base) and give the
// plain path's numbers, so auto-enabling is safe. In-place RoPE and the RMSNorm function have
// no Axolotl key (its unsloth_rope / unsloth_rms_norm were removed): they are on in every
// training forward, as they too change memory only.
#include "axl/config/config.h"
#include "axl/kernels/fused_ops.h"

namespace axl::train {

kernels::FusedOps fused_ops_for(const config::Config& cfg);

}  // namespace axl::train
