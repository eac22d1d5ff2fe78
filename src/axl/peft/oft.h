#pragma once
// Attaching OFT: an OftLayer (PEFT 0.19.1) or, for a config read from a PEFT <= 0.13 file, a
// LegacyOftLayer in each target slot, initialised as PEFT does (zero parameters: R = I).
#include <cstdint>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/oft_config.h"

namespace axl::peft {

// PEFT's fix-up of r or oft_block_size that does not divide in_features: the nearest divisor
// (the lower one on a tie), or in_features itself when the value exceeds it.
int64_t nearest_divisor(int64_t in_features, int64_t value);

Adapter attach_oft(models::CausalLM& model, const OftConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
