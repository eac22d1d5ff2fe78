#pragma once
// What a streamed training run reads and how its rows are laid out, from the config:
// `pretraining_dataset` entries, or `datasets` with `streaming: true`. Only local files are
// streamed (a .jsonl/.json-lines or .txt file, a folder of them, or data_files); a hub name
// is an error naming the entry. Axolotl's three layouts (utils/data/streaming.py):
//   sample_packing: the entry's strategy (pretrain: overlapping windows + EOS) and its samples
//     of 2..sequence_len tokens packed into rows of micro_batch_size x sequence_len, position
//     ids restarting per sample when pretrain_multipack_attn (always for `datasets`);
//   unpacked pretraining: one document per row cut to sequence_len - 2 tokens, or with
//     pretraining_sample_concatenation documents + [EOS, PAD] concatenated into rows;
//   unpacked `datasets`: one sample of min_sample_len..sequence_len tokens per row.
// Unlike Axolotl, rows are filled in file order (next-fit, no shuffle buffer and no
// multipack reordering), which makes a stream position exact and cheap to resume from.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/data/prompt_strategy.h"
#include "axl/data/stream_position.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

struct RowLayout {
  size_t capacity = 0;            // tokens per row (rows are always padded to it)
  bool concatenate = true;        // several samples per row; false: one sample per row
  bool restart_positions = true;  // position ids from 0 per sample (varlen attention per sample)
  size_t min_sample_len = 1, max_sample_len = SIZE_MAX;  // samples outside are dropped
  TokenId pad_id = 0;
  // Unpacked concatenated pretraining: a masked PAD inside a row is not attended (its mask 0).
  bool pad_tokens_unattended = false;

  std::string describe() const;  // what StreamIdentity::layout records
};

struct StreamEntry {
  std::string where;  // the config entry, for messages
  std::unique_ptr<PromptStrategy> strategy;
  uint64_t skip = 0;  // documents skipped at the start of each pass (`skip:`)
};

struct StreamFile {
  std::string path;
  bool json = true;  // JSON Lines, else text (one document {"text": line} per line)
  size_t entry = 0;
  bool first_of_entry = false;  // where the entry's skip starts
};

struct StreamSource {
  std::vector<StreamEntry> entries;
  std::vector<StreamFile> files;
  RowLayout layout;
  size_t rows_per_micro_batch = 1;  // packed: 1 row of micro_batch_size x sequence_len

  StreamIdentity identity() const;  // files with their current sizes, and the layout
};

// True when the config trains from a stream (pretraining_dataset, or streaming: true).
bool is_streaming(const config::Config& cfg);

// The pad id rows are padded with: the tokenizer's PAD, else EOS, else 0 (as the trainer's).
TokenId stream_pad_id(const tokenizer::Tokenizer& tok);

// Throws axl::Error naming the entry for a path that is not a local file or folder, an
// unsupported file type or split, or a type the entry's strategy does not know.
StreamSource make_stream_source(const config::Config& cfg, const tokenizer::Tokenizer& tok);

}  // namespace axl::data
