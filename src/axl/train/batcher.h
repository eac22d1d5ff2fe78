#pragma once
// From a tokenized store to training micro-batches: `micro_batch_size` records padded to the
// longest of them (pad id from the tokenizer, labels -100 and attention mask 0 on padding),
// in a seeded order that is reshuffled each epoch. The same seed gives the same batches on
// every run, so a resumed run sees the data a straight run would have seen.
#include <cstdint>
#include <vector>

#include "axl/data/tokenized_store.h"
#include "axl/train/train_step.h"

namespace axl::train {

struct BatcherOptions {
  int64_t micro_batch_size = 1;
  int64_t pad_id = 0;
  uint64_t seed = 42;
  bool shuffle = true;  // false: store order every epoch (evaluation)
  at::Device device = at::Device(at::kCPU);
};

class Batcher {
 public:
  // Throws axl::Error for micro_batch_size < 1 or a negative pad id.
  Batcher(const data::TokenizedStore& store, BatcherOptions options);

  size_t num_records() const { return store_.size(); }
  // ceil(records / micro_batch_size): the last micro-batch of an epoch may be smaller.
  size_t micro_batches_per_epoch() const;
  // The record order of an epoch: a permutation seeded by (seed, epoch), or 0..n-1.
  std::vector<size_t> epoch_order(int64_t epoch) const;
  // Micro-batch `index` of `epoch` (orders are cached per epoch).
  MicroBatch micro_batch(int64_t epoch, size_t index);
  // The padded tensors for these records, in this order.
  MicroBatch make_batch(const std::vector<size_t>& records) const;

 private:
  const data::TokenizedStore& store_;
  BatcherOptions options_;
  int64_t cached_epoch_ = -1;
  std::vector<size_t> cached_order_;
};

}  // namespace axl::train
