#include "axl/train/fused_ops_setting.h"

#include "axl/config/lora_kernel_keys.h"

namespace axl::train {

kernels::FusedOps fused_ops_for(const config::Config& cfg) {
  const config::LoraKernels lora = config::lora_kernels(cfg);
  kernels::FusedOps f;
  f.lora_mlp = lora.mlp;
  f.lora_qkv = lora.qkv;
  f.lora_o = lora.o;
  f.rope = true;
  f.rms_norm = true;
  return f;
}

}  // namespace axl::train
