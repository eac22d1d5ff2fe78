#include "axl/data/stream_packer.h"

#include "axl/core/error.h"

namespace axl::data {

RowPacker::RowPacker(RowLayout layout, uint64_t rows_before) : layout_(layout), rows_(rows_before) {
  if (layout_.capacity == 0) throw Error("stream rows need a capacity of at least one token");
}

void RowPacker::add(const TokenizedSample& s, const StreamPosition& at, std::deque<PackedRow>& out) {
  const size_t n = s.input_ids.size();
  if (n < layout_.min_sample_len || n > layout_.max_sample_len || n > layout_.capacity) {
    ++dropped_;
    return;
  }
  if (used_ > 0 && (!layout_.concatenate || used_ + n > layout_.capacity)) complete(at, out);
  row_.input_ids.insert(row_.input_ids.end(), s.input_ids.begin(), s.input_ids.end());
  row_.labels.insert(row_.labels.end(), s.labels.begin(), s.labels.end());
  for (size_t j = 0; j < n; ++j) {
    row_.position_ids.push_back(static_cast<int32_t>(layout_.restart_positions ? j : used_ + j));
    const bool unattended = layout_.pad_tokens_unattended && s.input_ids[j] == layout_.pad_id && s.labels[j] == kIgnoreIndex;
    row_.attention_mask.push_back(unattended ? 0 : 1);
  }
  row_.segments.push_back(static_cast<int32_t>(n));
  used_ += n;
}

void RowPacker::flush(const StreamPosition& next, std::deque<PackedRow>& out) {
  if (used_ > 0) complete(next, out);
}

void RowPacker::complete(const StreamPosition& next, std::deque<PackedRow>& out) {
  const size_t pad = layout_.capacity - used_;
  row_.input_ids.resize(layout_.capacity, layout_.pad_id);
  row_.labels.resize(layout_.capacity, kIgnoreIndex);
  row_.attention_mask.resize(layout_.capacity, 0);
  // Padding is a segment of its own, with positions from 0 like a sample (as the batcher's).
  for (size_t j = 0; j < pad; ++j)
    row_.position_ids.push_back(static_cast<int32_t>(layout_.restart_positions ? j : used_ + j));
  if (pad) row_.segments.push_back(static_cast<int32_t>(pad));
  row_.next = next;
  row_.next.rows = ++rows_;
  out.push_back(std::move(row_));
  row_ = PackedRow{};
  used_ = 0;
}

}  // namespace axl::data
