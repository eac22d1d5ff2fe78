#pragma once
// The trainer's batch source for streamed datasets (data/stream_source.h), next to the
// Batcher: micro-batches made from the token stream's rows as training asks for them, and the
// stream position after the last row handed out, which checkpoints save so that a resumed run
// continues with exactly the next row.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/data/token_stream.h"
#include "axl/tokenizer/tokenizer.h"
#include "axl/train/train_step.h"

namespace axl::train {

class StreamBatches {
 public:
  // Opens the config's stream at `saved` (refused, naming `where`, when it was saved for other
  // files or another row layout) or at its start.
  StreamBatches(const config::Config& cfg, const tokenizer::Tokenizer& tok, at::Device device,
                const std::optional<data::SavedStreamPosition>& saved, const std::string& where);

  // `count` micro-batches (each rows_per_micro_batch rows) in stream order.
  std::vector<MicroBatch> next_step(int64_t count);
  // Where the next row starts, with what it is valid for (saved in trainer_state.json).
  data::SavedStreamPosition position() const { return {position_, identity_}; }
  // One line for the log: files, row layout, and where the stream starts.
  std::string describe() const;

 private:
  data::StreamSource source_;
  data::StreamIdentity identity_;
  data::StreamPosition position_;
  std::unique_ptr<data::TokenStream> stream_;
  at::Device device_;
};

// Rows as one micro-batch [rows, capacity]. Rows with per-sample positions (a single packed
// row) also get position_ids and cu_seqlens (each sample, then the padding, a segment).
MicroBatch micro_batch_from_rows(const std::vector<data::PackedRow>& rows, bool per_sample_attention, at::Device device);

}  // namespace axl::train
