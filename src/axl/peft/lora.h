#pragma once
// Attaching LoRA to a model: pick the target slots (PEFT's matching rules), give each a
// LoraLayer initialised as PEFT does, and make only the adapter tensors trainable.
#include <cstdint>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/lora_config.h"

namespace axl::peft {

// PEFT's default LoRA targets for a model type, used when target_modules is unset.
std::vector<std::string> default_lora_targets(const std::string& model_type);

// Attaches a LoRA adapter; `seed` drives the initialisation. Throws axl::Error when nothing
// matches or a modules_to_save entry is not a linear module of the model.
Adapter attach_lora(models::CausalLM& model, const LoraConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
