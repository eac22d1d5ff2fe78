#include "axl/train/fused_ops_setting.h"

namespace axl::train {

kernels::FusedOps fused_ops_for(const config::Config& cfg) {
  const bool lora = cfg.adapter == "lora" || cfg.adapter == "qlora";
  // Axolotl leaves them all off once any one is set explicitly, and for lora + load_in_8bit.
  const bool any_set = cfg.lora_mlp_kernel || cfg.lora_qkv_kernel || cfg.lora_o_kernel;
  const bool auto_on = lora && !any_set && !(cfg.adapter == "lora" && cfg.load_in_8bit);
  kernels::FusedOps f;
  f.lora_mlp = cfg.lora_mlp_kernel.value_or(auto_on);
  f.lora_qkv = cfg.lora_qkv_kernel.value_or(auto_on);
  f.lora_o = cfg.lora_o_kernel.value_or(auto_on);
  f.rope = true;
  f.rms_norm = true;
  return f;
}

}  // namespace axl::train
