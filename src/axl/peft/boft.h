#pragma once
// Attaching BOFT: a BoftLayer in each target slot, initialised as PEFT does (boft_R zero,
// boft_s one: the identity), and reading PEFT 0.12's files, which also held the butterfly
// permutations boft_P (PEFT 0.19.1 keeps them as unsaved buffers).
#include <cstdint>
#include <map>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/boft_config.h"

namespace axl::peft {

Adapter attach_boft(models::CausalLM& model, const BoftConfig& config, uint64_t seed = 0);

// Drops PEFT 0.12's boft_P entries (identity permutations for one butterfly factor; anything
// else, or a boft_R with more factors, is refused with an axl::Error).
void upgrade_stored_boft(std::map<std::string, at::Tensor>& stored);

}  // namespace axl::peft
