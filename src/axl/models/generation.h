#pragma once
// Autoregressive generation with a KV cache: one prefill of the prompt, then one position
// per step, until an end-of-sequence id or max_new_tokens.
#include <cstdint>
#include <functional>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/models/sampling.h"

namespace axl::models {

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  SamplingOptions sampling;
  std::vector<int64_t> eos_ids;  // empty: the model config's
  bool stop_at_eos = true;
};

// Returns the generated ids (prompt excluded). `on_token` (optional) sees each id as it comes.
std::vector<int64_t> generate(const CausalLM& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& opts,
                              const std::function<void(int64_t)>& on_token = nullptr);

}  // namespace axl::models
