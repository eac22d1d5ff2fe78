#pragma once
// The adapter a training config asks for: Axolotl's keys (adapter, lora_r, lora_alpha,
// lora_dropout, lora_target_modules / lora_target_linear, lora_modules_to_save,
// peft_use_dora, peft_use_rslora) turned into the PEFT config fields of the chosen method,
// then the `peft:` block laid over them (docs/adapters.md), then read by that method.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "axl/config/config.h"
#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::train {

// PEFT's peft_type for an Axolotl `adapter:` value (lora, dora, ia3, loha, ...).
std::string peft_type_for(const std::string& adapter);

// The adapter_config.json-style object for `cfg` (peft_type, task_type, base model and the
// method's fields). Throws axl::Error for an adapter value with no PEFT method.
nlohmann::json adapter_config_json(const config::Config& cfg);

// Attaches the configured adapter, freshly initialised from `seed`.
peft::Adapter attach_training_adapter(models::CausalLM& model, const config::Config& cfg, uint64_t seed);

}  // namespace axl::train
