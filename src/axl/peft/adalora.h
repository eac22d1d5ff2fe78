#pragma once
// Attaching AdaLoRA to a model: SVD-form layers (adalora_layer.h) on PEFT's targets, the
// orthogonal regularisation as a training loss term, and the rank allocator after each
// optimizer step (adalora_rank_allocator.h), both through AdapterHooks.
#include <cstdint>
#include <string>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/peft/adalora_config.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

// PEFT's default AdaLoRA targets for a model type (its own table, narrower than LoRA's).
std::vector<std::string> default_adalora_targets(const std::string& model_type);

// A config with rank_pattern (a saved adapter) gets layers of the kept rank, as PEFT resizes
// them on load, and no rank allocator.
Adapter attach_adalora(models::CausalLM& model, const AdaLoraConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
