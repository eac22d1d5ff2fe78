#pragma once
// Attaching VeRA: one pair of frozen random projections shared by every target layer, drawn as
// PEFT draws them (a CPU generator seeded with projection_prng_key, Kaiming-uniform, vera_A
// first) at the largest in/out size among the targets, and per layer lambda_b = 0 and
// lambda_d = d_initial (PEFT's initialisation: a no-op). With save_projection the projections
// are saved as base_model.vera_A / base_model.vera_B.
#include <cstdint>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/vera_config.h"

namespace axl::peft {

// PEFT's shared projections for `key`: vera_A [r, max_in], vera_B [max_out, r].
std::pair<at::Tensor, at::Tensor> vera_projections(int64_t r, int64_t max_in, int64_t max_out, int64_t key);

Adapter attach_vera(models::CausalLM& model, const VeraConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
