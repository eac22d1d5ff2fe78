#pragma once
// From a tokenized store to training micro-batches: `micro_batch_size` records padded to the
// longest of them (pad id from the tokenizer, labels -100 and attention mask 0 on padding),
// in a seeded order that is reshuffled each epoch. The same seed gives the same batches on
// every run, so a resumed run sees the data a straight run would have seen.
#include <cstdint>
#include <vector>

#include "axl/data/sample_packing.h"
#include "axl/data/tokenized_store.h"
#include "axl/train/train_step.h"

namespace axl::train {

struct BatcherOptions {
  int64_t micro_batch_size = 1;
  int64_t pad_id = 0;
  uint64_t seed = 42;
  bool shuffle = true;  // false: store order every epoch (evaluation)
  at::Device device = at::Device(at::kCPU);
  // Sample packing: a micro-batch is one row of micro_batch_size x sequence_len tokens holding
  // whole samples, planned once by first-fit decreasing (data/sample_packing.h); epochs shuffle
  // the rows. pad_to_sequence_len pads every row to that capacity (fixed shapes), else to a
  // multiple of 64 tokens.
  bool sample_packing = false;
  int64_t sequence_len = 0;
  bool pad_to_sequence_len = true;
  int64_t max_samples_per_row = 200;  // sample_packing_bin_size
  // group_by_length (unpacked, shuffled): the epoch's permutation is cut into mega-batches of
  // min(records / (4 x B), 50) x B records, B = length_group_batch (the Trainer's
  // micro_batch_size x gradient_accumulation_steps), each sorted longest first, as
  // transformers' LengthGroupedSampler does: micro-batches of similar lengths, less padding.
  bool group_by_length = false;
  int64_t length_group_batch = 0;  // 0: micro_batch_size
};

class Batcher {
 public:
  // Throws axl::Error for micro_batch_size < 1 or a negative pad id.
  Batcher(const data::TokenizedStore& store, BatcherOptions options);

  size_t num_records() const { return store_.size(); }
  // ceil(records / micro_batch_size): the last micro-batch of an epoch may be smaller.
  // Packed: the number of packed rows, the same every epoch.
  size_t micro_batches_per_epoch() const;
  // The record order of an epoch: a permutation seeded by (seed, epoch), or 0..n-1. Packed:
  // the order of the packed rows.
  std::vector<size_t> epoch_order(int64_t epoch) const;
  bool packed() const { return options_.sample_packing; }
  // The packing plan (empty unless packed); its efficiency() is what training reports.
  const data::PackingPlan& packing_plan() const { return plan_; }
  // Micro-batch `index` of `epoch` (orders are cached per epoch).
  MicroBatch micro_batch(int64_t epoch, size_t index);
  // The padded tensors for these records, in this order.
  MicroBatch make_batch(const std::vector<size_t>& records) const;
  // One packed row of these records, in this order: labels -100 at each sample's first token
  // (never predicted from the sample before it), position ids from 0 per sample, cu_seqlens
  // with the padding at the end as a segment of its own.
  MicroBatch make_packed_batch(const std::vector<size_t>& records) const;

 private:
  const data::TokenizedStore& store_;
  BatcherOptions options_;
  data::PackingPlan plan_;
  int64_t cached_epoch_ = -1;
  std::vector<size_t> cached_order_;
};

}  // namespace axl::train
