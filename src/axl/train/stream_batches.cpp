#include "axl/train/stream_batches.h"

#include "axl/core/error.h"

namespace axl::train {

StreamBatches::StreamBatches(const config::Config& cfg, const tokenizer::Tokenizer& tok, at::Device device,
                             const std::optional<data::SavedStreamPosition>& saved, const std::string& where)
    : source_(data::make_stream_source(cfg, tok)), identity_(source_.identity()), device_(device) {
  if (saved) {
    saved->identity.check_same(identity_, where);
    position_ = saved->position;
  }
  stream_ = std::make_unique<data::TokenStream>(source_, data::TokenStreamOptions{}, position_);
}

std::vector<MicroBatch> StreamBatches::next_step(int64_t count) {
  std::vector<MicroBatch> out;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<data::PackedRow> rows(source_.rows_per_micro_batch);
    for (auto& row : rows) {
      if (!stream_->next(row)) throw std::logic_error("a looping token stream ended");
      position_ = row.next;
    }
    out.push_back(micro_batch_from_rows(rows, source_.layout.restart_positions, device_));
  }
  return out;
}

std::string StreamBatches::describe() const {
  std::string s = "streaming: " + std::to_string(source_.files.size()) + " file(s) from " + source_.files.front().path +
                  ", rows of " + std::to_string(source_.layout.capacity) + " tokens (" + source_.layout.describe() + ")";
  if (position_.rows > 0)
    s += ", continuing at " + source_.files.at(position_.file).path + ":" + std::to_string(position_.line) +
         " after " + std::to_string(position_.rows) + " rows";
  return s;
}

MicroBatch micro_batch_from_rows(const std::vector<data::PackedRow>& rows, bool per_sample_attention, at::Device device) {
  const auto b = static_cast<int64_t>(rows.size());
  const auto t = static_cast<int64_t>(rows.front().input_ids.size());
  at::Tensor ids = at::empty({b, t}, at::kLong), labels = at::empty({b, t}, at::kLong);
  at::Tensor mask = at::empty({b, t}, at::kLong), positions = at::empty({b, t}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  auto pos_a = positions.accessor<int64_t, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const data::PackedRow& r = rows[static_cast<size_t>(i)];
    for (int64_t j = 0; j < t; ++j) {
      const auto k = static_cast<size_t>(j);
      ids_a[i][j] = r.input_ids[k];
      labels_a[i][j] = r.labels[k];
      mask_a[i][j] = r.attention_mask[k];
      pos_a[i][j] = r.position_ids[k];
    }
  }
  MicroBatch mb;
  mb.input_ids = ids.to(device);
  mb.labels = labels.to(device);
  mb.attention_mask = mask.to(device);
  if (per_sample_attention && b == 1) {
    std::vector<int32_t> bounds{0};
    for (int32_t seg : rows.front().segments) bounds.push_back(bounds.back() + seg);
    at::Tensor cu = at::empty({static_cast<int64_t>(bounds.size())}, at::kInt);
    std::copy(bounds.begin(), bounds.end(), cu.data_ptr<int32_t>());
    mb.position_ids = positions.to(device);
    mb.cu_seqlens = cu.to(device);
  }
  return mb;
}

}  // namespace axl::train
