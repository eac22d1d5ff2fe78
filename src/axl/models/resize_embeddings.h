#pragma once
// transformers' resize_token_embeddings (5.14, mean_resizing=True) for a vocabulary grown by
// added tokens: the input embeddings and an untied head get new rows, a tied head keeps
// sharing the embeddings, and config.vocab_size follows.
#include <cstdint>

#include "axl/models/causal_lm.h"

namespace axl::models {

struct ResizeOptions {
  int64_t pad_to_multiple_of = 0;  // Axolotl's resize_token_embeddings_to_32x passes 32
  bool shrink = false;             // Axolotl's shrink_embeddings: also cut rows past num_tokens
  bool mean_resizing = true;       // false: new rows N(0, initializer_range) as _init_weights
  uint64_t seed = 42;              // the generator for the new rows
};

// Makes the model hold `num_tokens` rows (rounded up to pad_to_multiple_of); by default only
// grows, as Axolotl does. Old rows stay bit-equal. New rows: the old rows' mean plus a sample
// of N(0, 1e-9 * their covariance) when that covariance is positive definite, else the mean
// (transformers' rule; our sample comes from a CPU generator seeded with `seed`, so runs are
// reproducible, but it is not torch's MultivariateNormal stream). An untied head's new rows
// are made the same way from the head's rows, its bias rows from the bias mean. Returns the
// row count the model has afterwards. axl::Error when the head is not a dense weight.
int64_t resize_token_embeddings(CausalLM& model, int64_t num_tokens, const ResizeOptions& options = {});

}  // namespace axl::models
