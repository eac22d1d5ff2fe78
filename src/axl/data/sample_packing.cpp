#include "axl/data/sample_packing.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "axl/core/error.h"
#include "axl/data/tokenized_store.h"

namespace axl::data {

double PackingPlan::efficiency() const {
  if (bins.empty() || capacity == 0) return 0.0;
  return static_cast<double>(packed_tokens) / (static_cast<double>(bins.size()) * static_cast<double>(capacity));
}

namespace {

// Room left in every possible bin (one per sample at most), bins in opening order, as a max
// segment tree: the first bin with room for `need` is found in O(log n), so packing 100k
// samples stays fast. Bins not yet opened have the whole capacity, so "the first bin with
// room" is either an open one or the next new one, which is exactly first fit.
class FirstFitTree {
 public:
  FirstFitTree(size_t bins, size_t capacity) : leaves_(1) {
    while (leaves_ < bins) leaves_ *= 2;
    room_.assign(2 * leaves_, 0);
    for (size_t i = 0; i < bins; ++i) room_[leaves_ + i] = capacity;
    for (size_t i = leaves_ - 1; i >= 1; --i) room_[i] = std::max(room_[2 * i], room_[2 * i + 1]);
  }
  // The leftmost bin with at least `need` room; the caller guarantees one exists.
  size_t first_with_room(size_t need) const {
    size_t node = 1;
    while (node < leaves_) node = room_[2 * node] >= need ? 2 * node : 2 * node + 1;
    return node - leaves_;
  }
  size_t room(size_t bin) const { return room_[leaves_ + bin]; }
  void set_room(size_t bin, size_t room) {
    size_t node = leaves_ + bin;
    room_[node] = room;
    for (node /= 2; node >= 1; node /= 2) room_[node] = std::max(room_[2 * node], room_[2 * node + 1]);
  }

 private:
  size_t leaves_;
  std::vector<size_t> room_;
};

}  // namespace

PackingPlan pack_first_fit_decreasing(const std::vector<size_t>& lengths, size_t capacity,
                                      size_t max_samples_per_bin) {
  if (capacity == 0) throw Error("sample packing: the row capacity (micro_batch_size x sequence_len) is 0");
  PackingPlan plan;
  plan.capacity = capacity;
  std::vector<size_t> order;
  order.reserve(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > capacity)
      throw Error("sample packing: sample " + std::to_string(i) + " has " + std::to_string(lengths[i]) +
                  " tokens, more than a packed row holds (" + std::to_string(capacity) +
                  "); raise sequence_len or use excess_length_strategy: drop or truncate");
    if (lengths[i] == 0) ++plan.skipped_samples;
    else order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  if (order.empty()) return plan;

  FirstFitTree tree(order.size(), capacity);
  for (size_t sample : order) {
    const size_t bin = tree.first_with_room(lengths[sample]);
    if (bin == plan.bins.size()) plan.bins.emplace_back();
    plan.bins[bin].push_back(sample);
    plan.packed_tokens += lengths[sample];
    const bool full = max_samples_per_bin > 0 && plan.bins[bin].size() >= max_samples_per_bin;
    tree.set_room(bin, full ? 0 : tree.room(bin) - lengths[sample]);
  }
  return plan;
}

PackingPlan plan_packing(const TokenizedStore& store, size_t capacity, size_t max_samples_per_bin) {
  std::vector<size_t> lengths(store.size());
  for (size_t i = 0; i < store.size(); ++i) {
    const TokenSpan labels = store.labels(i);
    // Only labels after the first position are ever predicted (the first token has no context).
    const bool trained = std::any_of(labels.begin() + std::min<size_t>(1, labels.size()), labels.end(),
                                     [](TokenId l) { return l != kIgnoreIndex; });
    lengths[i] = trained ? store.input_ids(i).size() : 0;
  }
  return pack_first_fit_decreasing(lengths, capacity, max_samples_per_bin);
}

}  // namespace axl::data
