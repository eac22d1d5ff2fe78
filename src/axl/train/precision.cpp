#include "axl/train/precision.h"

#include <ATen/autocast_mode.h>

namespace axl::train {

std::string Precision::describe() const {
  std::string s = autocast ? std::string(*autocast == at::kBFloat16 ? "bf16" : "fp16") + " autocast" : "float32";
  s += ", " + std::string(c10::toString(weights)) + " base weights";
  if (loss_scaling) s += ", dynamic loss scaling";
  return s;
}

Precision precision_for(const config::Config& cfg, bool full_finetune) {
  Precision p;
  if (cfg.bf16) {
    p.weights = at::kBFloat16;
    p.autocast = at::kBFloat16;
  } else if (cfg.fp16) {
    // A full fine-tune keeps float32 master weights: fp16 gradients cannot be unscaled.
    p.weights = full_finetune ? at::kFloat : at::kHalf;
    p.autocast = at::kHalf;
    p.loss_scaling = true;
  }
  return p;
}

void keep_adapter_float32(peft::Adapter& adapter) {
  at::NoGradGuard no_grad;
  for (auto& m : adapter.saved_modules) {
    if (m.weight.scalar_type() == at::kFloat) continue;
    m.weight = m.weight.detach().to(at::kFloat).requires_grad_(true);
    m.slot->base = std::make_shared<models::DenseBase>(m.weight);
  }
  for (auto& attached : adapter.layers)
    for (auto& [name, t] : attached.layer->tensors())
      if (t->is_floating_point() && t->scalar_type() != at::kFloat)
        *t = t->detach().to(at::kFloat).requires_grad_(t->requires_grad());
}

AutocastGuard::AutocastGuard(at::DeviceType device, std::optional<at::ScalarType> dtype)
    : device_(device), active_(dtype.has_value()) {
  if (!active_) return;
  previous_enabled_ = at::autocast::is_autocast_enabled(device_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_);
  at::autocast::set_autocast_enabled(device_, true);
  at::autocast::set_autocast_dtype(device_, *dtype);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // The cache holds low-precision copies of the weights; they must not outlive the region.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, previous_enabled_);
  at::autocast::set_autocast_dtype(device_, previous_dtype_);
}

std::optional<at::ScalarType> current_autocast(at::DeviceType device) {
  if (!at::autocast::is_autocast_enabled(device)) return std::nullopt;
  return at::autocast::get_autocast_dtype(device);
}

void set_tf32(bool enabled) {
  // torch 2.9+'s per-backend setting (the older setAllowTF32* calls are deprecated).
  const auto p = enabled ? at::Float32Precision::TF32 : at::Float32Precision::IEEE;
  at::globalContext().setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, p);
  at::globalContext().setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, p);
}

}  // namespace axl::train
