#pragma once
// Sample packing (Axolotl's `sample_packing: true`): whole samples placed into bins of
// `capacity` tokens (micro_batch_size x sequence_len, one packed row per micro-batch, as
// Axolotl's multipack sampler does by default) by first-fit decreasing. The plan depends only
// on the sample lengths, so the number of packed rows, and with it the number of optimizer
// steps per epoch, is known before training starts; epochs reorder the rows, not their content.
// No libtorch here: the batcher turns a bin into tensors.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace axl::data {

class TokenizedStore;

struct PackingPlan {
  size_t capacity = 0;                    // tokens per bin
  std::vector<std::vector<size_t>> bins;  // sample indices per bin, longest first
  uint64_t packed_tokens = 0;             // sum of the packed samples' lengths
  size_t skipped_samples = 0;             // left out (no trained label, or empty)

  // Tokens used / (bins x capacity): Axolotl's sample_packing_eff_est before rounding.
  double efficiency() const;
};

// First-fit decreasing: samples sorted by length, longest first (ties in index order), each
// into the first bin (in opening order) with room for it and fewer than `max_samples_per_bin`
// samples (Axolotl's sample_packing_bin_size; 0 = no limit), else into a new bin. A length of
// 0 is skipped. Throws axl::Error when a sample is longer than `capacity`, or capacity is 0.
PackingPlan pack_first_fit_decreasing(const std::vector<size_t>& lengths, size_t capacity,
                                      size_t max_samples_per_bin = 200);

// The plan for a tokenized store. As Axolotl does when packing, samples without a single
// trained label are left out (they would only take room in a row).
PackingPlan plan_packing(const TokenizedStore& store, size_t capacity, size_t max_samples_per_bin = 200);

}  // namespace axl::data
