#pragma once
// Mixed precision as Axolotl + HF Trainer + PEFT train (bf16: / fp16: of a resolved config):
//
//   setting         base weights  trainable (master) weights       forward            loss scaling
//   neither         float32       float32                          float32            no
//   bf16, adapter   bfloat16      adapter float32 (PEFT's          autocast bfloat16  no
//                                 autocast_adapter_dtype)
//   bf16, full FT   bfloat16      bfloat16 (HF trains the loaded   autocast bfloat16  no
//                                 dtype; AdamW states follow it)
//   fp16, adapter   float16       adapter float32                  autocast float16   dynamic
//   fp16, full FT   float32       float32 (GradScaler refuses fp16 autocast float16   dynamic
//                                 gradients, so the master copy
//                                 stays float32)
//
// Only the forward runs under autocast (backward follows the recorded casts, as in
// `with autocast(): loss = model(...)` then `loss.backward()`), and the loss is float32.
// On the CPU, `bf16: auto` resolves to false (config/derive_values.cpp): float32 unless asked.
#include <ATen/ATen.h>

#include <optional>
#include <string>

#include "axl/config/config.h"
#include "axl/peft/adapter.h"

namespace axl::train {

struct Precision {
  at::ScalarType weights = at::kFloat;       // the dtype the base model is loaded in
  std::optional<at::ScalarType> autocast;    // the forward's autocast dtype, if any
  bool loss_scaling = false;                 // fp16: LossScaler, overflowing steps skipped
  std::string describe() const;              // e.g. "bf16 autocast, bfloat16 base weights"
};

// `full_finetune`: every weight trains (no adapter).
Precision precision_for(const config::Config& cfg, bool full_finetune);

// fp16: trainable tensors of an adapter kept in float32, modules_to_save copies included
// (loss scaling cannot unscale float16 gradients; LoRA weights are float32 already).
void keep_adapter_float32(peft::Adapter& adapter);

// Enables autocast of `dtype` on `device` for its lifetime (nothing when dtype is empty) and
// restores the previous state after, clearing the cast cache when the outermost one ends:
// what `with torch.autocast(device_type, dtype)` does.
class AutocastGuard {
 public:
  AutocastGuard(at::DeviceType device, std::optional<at::ScalarType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  at::DeviceType device_;
  bool active_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

// The autocast dtype in force on `device`, if autocast is on there.
std::optional<at::ScalarType> current_autocast(at::DeviceType device);

// tf32: TF32 tensor-core matmuls and convolutions in float32 on CUDA (HF's `tf32: true`);
// nothing on the CPU.
void set_tf32(bool enabled);

}  // namespace axl::train
