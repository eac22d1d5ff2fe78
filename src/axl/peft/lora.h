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

// The Hugging Face module path of the input embeddings (model.embed_tokens for Llama), the
// name modules_to_save matches and PEFT saves under.
std::string embedding_module_path(const models::CausalLM& model);

// Attaches a LoRA adapter; `seed` drives the initialisation. Throws axl::Error when nothing
// matches or a modules_to_save entry is neither a linear module nor the input embeddings.
Adapter attach_lora(models::CausalLM& model, const LoraConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
