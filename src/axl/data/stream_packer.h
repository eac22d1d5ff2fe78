#pragma once
// Samples, in stream order, into fixed-length rows (RowLayout): next-fit, so a row is cut
// only between samples and each row records where the row after it starts (a
// StreamPosition). No libtorch: the trainer turns rows into tensors.
#include <cstdint>
#include <deque>
#include <vector>

#include "axl/data/prompt_strategy.h"
#include "axl/data/stream_position.h"
#include "axl/data/stream_source.h"

namespace axl::data {

struct PackedRow {
  std::vector<TokenId> input_ids, labels;  // capacity tokens; padding: pad id, label -100
  std::vector<int32_t> position_ids;       // per sample from 0 (restart_positions), else 0..capacity-1
  std::vector<int32_t> attention_mask;     // 0 on padding
  std::vector<int32_t> segments;           // sample lengths in order, then the padding's (if any)
  StreamPosition next;                     // where the following row starts
};

class RowPacker {
 public:
  // `rows_before`: rows the stream produced before the first one this packer makes.
  explicit RowPacker(RowLayout layout, uint64_t rows_before = 0);

  // Adds a sample that starts at `at` (its document, with `sample` its index there). A row
  // that it does not fit into is completed into `out` first. Samples outside the layout's
  // length range are dropped (counted).
  void add(const TokenizedSample& s, const StreamPosition& at, std::deque<PackedRow>& out);
  // The end of a pass: completes the pending row, which the next pass does not continue.
  void flush(const StreamPosition& next, std::deque<PackedRow>& out);
  uint64_t dropped_samples() const { return dropped_; }
  uint64_t rows() const { return rows_; }  // rows completed, counting rows_before

 private:
  void complete(const StreamPosition& next, std::deque<PackedRow>& out);

  RowLayout layout_;
  PackedRow row_;
  size_t used_ = 0;
  uint64_t rows_ = 0, dropped_ = 0;
};

}  // namespace axl::data
