#include "axl/data/token_stream.h"

#include <algorithm>

#include "axl/core/error.h"

namespace axl::data {

struct TokenStream::Item {
  struct Doc {
    size_t begin = 0, size = 0;  // in `text`
    uint32_t file = 0;
    uint64_t offset = 0, line = 0;
  };
  uint64_t pass = 0;
  std::string text;  // the documents' bytes back to back
  std::vector<Doc> docs;
  bool end_of_pass = false;
  // Filled by a worker: samples per document, and the first document that failed (its
  // message), so that the documents before it are still packed in order.
  std::vector<std::vector<TokenizedSample>> samples;
  size_t failed_doc = SIZE_MAX;
  std::string error;
  bool done = false;
};

TokenStream::TokenStream(const StreamSource& source, TokenStreamOptions options, StreamPosition start)
    : source_(source), options_(options), start_(start), packer_(source.layout, start.rows),
      rows_at_pass_start_(start.rows) {
  if (source_.files.empty()) throw Error("a streamed dataset needs at least one file");
  if (start_.file >= source_.files.size())
    throw Error("stream position names file " + std::to_string(start_.file) + " of " +
                std::to_string(source_.files.size()));
  size_t workers = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                        : std::min<size_t>(8, std::max(1u, std::thread::hardware_concurrency()));
  if (!options_.max_items_in_flight) options_.max_items_in_flight = 2 * workers + 2;
  threads_.emplace_back([this] { read_loop(); });
  for (size_t w = 0; w < workers; ++w) threads_.emplace_back([this] { work_loop(); });
}

TokenStream::~TokenStream() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_) t.join();
}

void TokenStream::push(std::shared_ptr<Item> item, bool needs_work) {
  std::unique_lock<std::mutex> lock(m_);
  changed_.wait(lock, [&] { return stop_ || window_.size() < options_.max_items_in_flight; });
  if (stop_) return;
  if (!needs_work) item->done = true;
  window_.push_back(item);
  if (needs_work) todo_.push_back(std::move(item));
  lock.unlock();
  changed_.notify_all();
}

void TokenStream::read_loop() {
  auto item = std::make_shared<Item>();
  auto stopped = [this] {
    std::lock_guard<std::mutex> lock(m_);
    return stop_;
  };
  try {
    uint64_t skip_left = 0;
    for (uint64_t pass = start_.pass;; ++pass) {
      const bool resumed_pass = pass == start_.pass;
      for (size_t f = resumed_pass ? start_.file : 0; f < source_.files.size(); ++f) {
        const StreamFile& file = source_.files[f];
        const bool at_start = resumed_pass && f == start_.file;
        const uint64_t offset = at_start ? start_.offset : 0;
        if (file.first_of_entry && offset == 0) skip_left = source_.entries[file.entry].skip;
        LineReader reader(file.path, offset, at_start ? start_.line : 1, options_.chunk_bytes);
        LineRef line;
        bool first_line = offset == 0;
        while (reader.next(line)) {
          if (file.json) {
            const size_t text_at = line.text.find_first_not_of(" \t\r");
            if (text_at == std::string_view::npos) continue;  // blank lines are no documents
            if (first_line && line.text[text_at] == '[')
              throw Error(file.path + ": a JSON array cannot be streamed; write one JSON object per line (JSON Lines)");
            first_line = false;
          }
          if (skip_left > 0) {
            --skip_left;
            continue;
          }
          item->pass = pass;
          item->docs.push_back({item->text.size(), line.text.size(), static_cast<uint32_t>(f), line.offset, line.number});
          item->text.append(line.text);
          if (item->text.size() >= options_.item_bytes) {
            push(std::move(item), true);
            item = std::make_shared<Item>();
            if (stopped()) return;
          }
        }
      }
      if (!item->docs.empty()) {
        push(std::move(item), true);
        item = std::make_shared<Item>();
      }
      auto end = std::make_shared<Item>();
      end->pass = pass;
      end->end_of_pass = true;
      push(std::move(end), false);
      if (!options_.loop || stopped()) return;
    }
  } catch (const std::exception& e) {
    // After the documents read so far, so the error comes where the stream reaches it.
    if (!item->docs.empty()) push(std::move(item), true);
    auto failed = std::make_shared<Item>();
    failed->failed_doc = 0;
    failed->error = e.what();
    push(std::move(failed), false);
  }
}

void TokenStream::tokenize_item(Item& item) const {
  item.samples.resize(item.docs.size());
  for (size_t d = 0; d < item.docs.size(); ++d) {
    const Item::Doc& doc = item.docs[d];
    const StreamFile& file = source_.files[doc.file];
    const PromptStrategy& strategy = *source_.entries[file.entry].strategy;
    std::string_view text(item.text.data() + doc.begin, doc.size);
    try {
      nlohmann::ordered_json row;
      if (file.json) {
        try {
          row = nlohmann::ordered_json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
          std::string why = e.what();
          const size_t p = why.find("syntax error");
          throw Error("malformed JSON line (" + (p == std::string::npos ? why : why.substr(p)) + ")");
        }
        if (!row.is_object()) throw Error("expected a JSON object per line");
      } else {
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);  // HF's text reader drops \r\n
        row = nlohmann::ordered_json::object();
        row["text"] = std::string(text);
      }
      strategy.tokenize(row, item.samples[d]);
    } catch (const std::exception& e) {
      item.failed_doc = d;
      item.error = file.path + ":" + std::to_string(doc.line) + ": " + strategy.name() + ": " + e.what();
      return;
    }
  }
}

void TokenStream::work_loop() {
  for (;;) {
    std::shared_ptr<Item> item;
    {
      std::unique_lock<std::mutex> lock(m_);
      changed_.wait(lock, [&] { return stop_ || !todo_.empty(); });
      if (stop_) return;
      item = std::move(todo_.front());
      todo_.pop_front();
    }
    tokenize_item(*item);
    {
      std::lock_guard<std::mutex> lock(m_);
      item->done = true;
    }
    changed_.notify_all();
  }
}

void TokenStream::feed(const Item& item) {
  const size_t n = std::min(item.docs.size(), item.failed_doc);
  for (size_t d = 0; d < n; ++d) {
    const Item::Doc& doc = item.docs[d];
    StreamPosition at{item.pass, doc.file, doc.offset, doc.line, 0, 0};
    const std::vector<TokenizedSample>& samples = item.samples[d];
    // The document a resumed stream starts in: earlier rows hold its first `sample` samples.
    size_t k = first_document_ ? std::min<size_t>(start_.sample, samples.size()) : 0;
    first_document_ = false;
    for (; k < samples.size(); ++k) {
      at.sample = k;
      packer_.add(samples[k], at, ready_);
      sample_tokens_ += samples[k].input_ids.size();
    }
    ++documents_;
  }
  if (item.failed_doc != SIZE_MAX) throw Error(item.error);
  if (item.end_of_pass) {
    packer_.flush(StreamPosition{item.pass + 1, 0, 0, 1, 0, 0}, ready_);
    const bool whole_pass = item.pass > start_.pass || (start_.file == 0 && start_.offset == 0);
    if (whole_pass && packer_.rows() == rows_at_pass_start_)
      throw Error(source_.files.front().path + (source_.files.size() > 1 ? " (and the other streamed files)" : "") +
                  ": no training rows: the streamed files hold no document with a usable sample");
    rows_at_pass_start_ = packer_.rows();
    if (!options_.loop) finished_ = true;
  }
}

bool TokenStream::next(PackedRow& row) {
  while (ready_.empty()) {
    if (finished_) return false;
    std::shared_ptr<Item> item;
    {
      std::unique_lock<std::mutex> lock(m_);
      changed_.wait(lock, [&] { return !window_.empty() && window_.front()->done; });
      item = std::move(window_.front());
      window_.pop_front();
    }
    changed_.notify_all();  // room for the reader
    feed(*item);
  }
  row = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace axl::data
