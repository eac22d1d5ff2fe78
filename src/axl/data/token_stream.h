#pragma once
// A streamed dataset as a sequence of packed rows, without loading the files: a reader thread
// reads lines lazily (line_reader.h) into work items of a few hundred KiB, tokenizer worker
// threads turn each item's documents into samples (plain vectors, no ATen), and next() packs
// the items' samples in stream order (stream_packer.h). At most `max_items_in_flight` items
// exist at once, so memory is bounded by the item size, whatever the files' size; the rows
// are the same for any thread count. Starting from a StreamPosition continues a stream exactly
// where a row boundary left it.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "axl/data/line_reader.h"
#include "axl/data/stream_packer.h"
#include "axl/data/stream_source.h"

namespace axl::data {

struct TokenStreamOptions {
  int threads = 0;    // tokenizer workers; 0: the machine's cores, at most 8
  bool loop = true;   // start over after the last file (training); false: one pass, then next() is false
  size_t item_bytes = 256 << 10;                   // document text per work item
  size_t chunk_bytes = LineReader::kDefaultChunk;  // file read size
  size_t max_items_in_flight = 0;                  // 0: 2 per worker + 2
};

class TokenStream {
 public:
  // `source` must outlive the stream. Starts reading at once.
  explicit TokenStream(const StreamSource& source, TokenStreamOptions options = {}, StreamPosition start = {});
  ~TokenStream();
  TokenStream(const TokenStream&) = delete;
  TokenStream& operator=(const TokenStream&) = delete;

  // The next row; false after the last one of a single pass. Throws axl::Error for a document
  // that cannot be read or tokenized (naming file:line) or an unreadable file.
  bool next(PackedRow& row);

  uint64_t documents() const { return documents_; }  // documents packed so far
  uint64_t sample_tokens() const { return sample_tokens_; }  // their samples' tokens
  uint64_t dropped_samples() const { return packer_.dropped_samples(); }

 private:
  struct Item;
  void read_loop();
  void work_loop();
  void tokenize_item(Item& item) const;
  void push(std::shared_ptr<Item> item, bool needs_work);
  void feed(const Item& item);

  const StreamSource& source_;
  TokenStreamOptions options_;
  StreamPosition start_;
  RowPacker packer_;
  std::deque<PackedRow> ready_;
  bool first_document_ = true, finished_ = false;
  uint64_t rows_at_pass_start_ = 0;  // a whole pass without a row would loop forever
  uint64_t documents_ = 0, sample_tokens_ = 0;

  std::mutex m_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<Item>> window_;  // every item in flight, in stream order
  std::deque<std::shared_ptr<Item>> todo_;    // items waiting for a worker
  bool stop_ = false;
  std::vector<std::thread> threads_;  // [0] reads, the rest tokenize
};

}  // namespace axl::data
