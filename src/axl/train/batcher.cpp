#include "axl/train/batcher.h"

#include <algorithm>

#include "axl/core/error.h"
#include "axl/data/prepare.h"

namespace axl::train {

Batcher::Batcher(const data::TokenizedStore& store, BatcherOptions options)
    : store_(store), options_(options) {
  if (options_.micro_batch_size < 1) throw Error("micro_batch_size must be at least 1");
  if (options_.pad_id < 0) throw Error("the pad token id must not be negative");
  if (options_.sample_packing) {
    if (options_.sequence_len < 1) throw Error("sample_packing needs sequence_len of at least 1");
    plan_ = data::plan_packing(store_, static_cast<size_t>(options_.micro_batch_size * options_.sequence_len),
                               static_cast<size_t>(std::max<int64_t>(0, options_.max_samples_per_row)));
    if (plan_.bins.empty() && store_.size() > 0)
      throw Error("sample packing: none of the " + std::to_string(store_.size()) +
                  " samples has a trained label (check train_on_inputs and the dataset type)");
  }
}

size_t Batcher::micro_batches_per_epoch() const {
  if (options_.sample_packing) return plan_.bins.size();
  const size_t mbs = static_cast<size_t>(options_.micro_batch_size);
  return (store_.size() + mbs - 1) / mbs;
}

std::vector<size_t> Batcher::epoch_order(int64_t epoch) const {
  const size_t n = options_.sample_packing ? plan_.bins.size() : store_.size();
  if (!options_.shuffle) {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    return order;
  }
  // A distinct, reproducible permutation per epoch (the seed mixed with the epoch number).
  const uint64_t epoch_seed = options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1;
  std::vector<size_t> order = data::seeded_permutation(n, epoch_seed);
  if (options_.group_by_length && !options_.sample_packing) {
    const size_t batch = static_cast<size_t>(options_.length_group_batch > 0 ? options_.length_group_batch
                                                                              : options_.micro_batch_size);
    const size_t mega = batch * std::max<size_t>(1, std::min<size_t>(n / (batch * 4), 50));
    for (size_t begin = 0; begin < n; begin += mega) {
      const auto first = order.begin() + static_cast<std::ptrdiff_t>(begin);
      const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(n, begin + mega));
      // Stable: equal lengths keep the permutation's order, so the order stays seeded.
      std::stable_sort(first, last, [&](size_t a, size_t b) {
        return store_.input_ids(a).size() > store_.input_ids(b).size();
      });
    }
  }
  return order;
}

MicroBatch Batcher::micro_batch(int64_t epoch, size_t index) {
  if (epoch != cached_epoch_) {
    cached_order_ = epoch_order(epoch);
    cached_epoch_ = epoch;
  }
  if (index >= micro_batches_per_epoch())
    throw Error("micro-batch " + std::to_string(index) + " is past the end of the epoch");
  if (options_.sample_packing) return make_packed_batch(plan_.bins[cached_order_[index]]);
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

MicroBatch Batcher::make_packed_batch(const std::vector<size_t>& records) const {
  const int64_t capacity = options_.micro_batch_size * options_.sequence_len;
  int64_t used = 0;
  for (size_t r : records) used += static_cast<int64_t>(store_.input_ids(r).size());
  if (used > capacity)
    throw Error("a packed row of " + std::to_string(used) + " tokens is over its capacity of " + std::to_string(capacity));
  // Fixed shapes by default (pad_to_sequence_len); otherwise a multiple of 64 as Axolotl's collator.
  const int64_t t = options_.pad_to_sequence_len ? capacity : std::min(capacity, std::max<int64_t>(64, (used + 63) / 64 * 64));
  at::Tensor ids = at::full({1, t}, options_.pad_id, at::kLong);
  at::Tensor labels = at::full({1, t}, data::kIgnoreIndex, at::kLong);
  at::Tensor mask = at::zeros({1, t}, at::kLong);
  at::Tensor positions = at::zeros({1, t}, at::kLong);
  std::vector<int32_t> bounds{0};
  auto ids_a = ids.accessor<int64_t, 2>()[0];
  auto labels_a = labels.accessor<int64_t, 2>()[0];
  auto mask_a = mask.accessor<int64_t, 2>()[0];
  auto pos_a = positions.accessor<int64_t, 2>()[0];
  int64_t at_pos = 0;
  for (size_t r : records) {
    const data::TokenSpan in = store_.input_ids(r);
    const data::TokenSpan lab = store_.labels(r);
    for (size_t j = 0; j < in.size(); ++j, ++at_pos) {
      ids_a[at_pos] = in[j];
      // The first token's label would be predicted from the previous sample's last token.
      labels_a[at_pos] = j > 0 && j < lab.size() ? lab[j] : data::kIgnoreIndex;
      mask_a[at_pos] = 1;
      pos_a[at_pos] = static_cast<int64_t>(j);
    }
    bounds.push_back(static_cast<int32_t>(at_pos));
  }
  // Padding: a segment of its own (flash-attn's varlen wants cu_seqlens to end at T), with
  // positions from 0 like any sample, so it never touches the samples' attention.
  for (int64_t j = 0; at_pos < t; ++j, ++at_pos) pos_a[at_pos] = j;
  if (bounds.back() != t) bounds.push_back(static_cast<int32_t>(t));
  at::Tensor cu = at::empty({static_cast<int64_t>(bounds.size())}, at::kInt);
  std::copy(bounds.begin(), bounds.end(), cu.data_ptr<int32_t>());
  MicroBatch mb;
  mb.input_ids = ids.to(options_.device);
  mb.labels = labels.to(options_.device);
  mb.attention_mask = mask.to(options_.device);
  mb.position_ids = positions.to(options_.device);
  mb.cu_seqlens = cu.to(options_.device);
  return mb;
}

}  // namespace axl::train
