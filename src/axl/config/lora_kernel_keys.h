#pragma once
// Axolotl 0.19's lora_mlp_kernel / lora_qkv_kernel / lora_o_kernel, resolved: unset, all three
// are on for adapter lora/qlora (its check_auto_enable_lora_kernels), except lora with
// load_in_8bit; once any one is set, the unset ones are off. The trainer picks its fused
// functions from this and validate's memory estimate counts their activations from it.
#include "axl/config/config.h"

namespace axl::config {

struct LoraKernels {
  bool mlp = false, qkv = false, o = false;
};

inline LoraKernels lora_kernels(const Config& c) {
  const bool lora = c.adapter == "lora" || c.adapter == "qlora";
  const bool any_set = c.lora_mlp_kernel || c.lora_qkv_kernel || c.lora_o_kernel;
  const bool auto_on = lora && !any_set && !(c.adapter == "lora" && c.load_in_8bit);
  return {c.lora_mlp_kernel.value_or(auto_on), c.lora_qkv_kernel.value_or(auto_on), c.lora_o_kernel.value_or(auto_on)};
}

}  // namespace axl::config
