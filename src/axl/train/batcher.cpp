#include "axl/train/batcher.h"

#include <algorithm>

#include "axl/core/error.h"
#include "axl/data/prepare.h"

namespace axl::train {

Batcher::Batcher(const data::TokenizedStore& store, BatcherOptions options)
    : store_(store), options_(options) {
  if (options_.micro_batch_size < 1) throw Error("micro_batch_size must be at least 1");
  if (options_.pad_id < 0) throw Error("the pad token id must not be negative");
}

size_t Batcher::micro_batches_per_epoch() const {
  const size_t mbs = static_cast<size_t>(options_.micro_batch_size);
  return (store_.size() + mbs - 1) / mbs;
}

std::vector<size_t> Batcher::epoch_order(int64_t epoch) const {
  if (!options_.shuffle) {
    std::vector<size_t> order(store_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    return order;
  }
  // A distinct, reproducible permutation per epoch (the seed mixed with the epoch number).
  const uint64_t epoch_seed = options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1;
  return data::seeded_permutation(store_.size(), epoch_seed);
}

MicroBatch Batcher::micro_batch(int64_t epoch, size_t index) {
  if (epoch != cached_epoch_) {
    cached_order_ = epoch_order(epoch);
    cached_epoch_ = epoch;
  }
  if (index >= micro_batches_per_epoch())
    throw Error("micro-batch " + std::to_string(index) + " is past the end of the epoch");
  const size_t mbs = static_cast<size_t>(options_.micro_batch_size);
  const size_t begin = index * mbs, end = std::min(begin + mbs, cached_order_.size());
  return make_batch(std::vector<size_t>(cached_order_.begin() + begin, cached_order_.begin() + end));
}

MicroBatch Batcher::make_batch(const std::vector<size_t>& records) const {
  size_t longest = 0;
  for (size_t r : records) longest = std::max(longest, store_.input_ids(r).size());
  const int64_t b = static_cast<int64_t>(records.size()), t = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({b, t}, options_.pad_id, at::kLong);
  at::Tensor labels = at::full({b, t}, data::kIgnoreIndex, at::kLong);
  at::Tensor mask = at::zeros({b, t}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const data::TokenSpan in = store_.input_ids(records[static_cast<size_t>(i)]);
    const data::TokenSpan lab = store_.labels(records[static_cast<size_t>(i)]);
    for (size_t j = 0; j < in.size(); ++j) {
      ids_a[i][static_cast<int64_t>(j)] = in[j];
      labels_a[i][static_cast<int64_t>(j)] = j < lab.size() ? lab[j] : data::kIgnoreIndex;
      mask_a[i][static_cast<int64_t>(j)] = 1;
    }
  }
  MicroBatch mb;
  mb.input_ids = ids.to(options_.device);
  mb.labels = labels.to(options_.device);
  mb.attention_mask = mask.to(options_.device);
  return mb;
}

}  // namespace axl::train
