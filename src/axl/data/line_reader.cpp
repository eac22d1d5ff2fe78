#include "axl/data/line_reader.h"

#include <cstring>

#include "axl/core/error.h"

namespace axl::data {

LineReader::LineReader(const std::string& path, uint64_t offset, uint64_t line_number, size_t chunk_bytes)
    : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose), chunk_(chunk_bytes ? chunk_bytes : kDefaultChunk),
      offset_(offset), line_(line_number) {
  if (!file_) throw Error(path + ": cannot read the dataset file");
  if (fseeko(file_.get(), 0, SEEK_END) != 0) throw Error(path + ": cannot seek in the dataset file");
  const auto size = static_cast<uint64_t>(ftello(file_.get()));
  if (offset > size)
    throw Error(path + ": position " + std::to_string(offset) + " is past the file's end (" + std::to_string(size) +
                " bytes); the file changed since the position was saved");
  if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0) throw Error(path + ": cannot seek in the dataset file");
  buf_.resize(chunk_);
}

bool LineReader::fill() {
  if (eof_) return false;
  // Move the unconsumed tail to the front; grow only when one line fills the whole buffer.
  const size_t kept = end_ - begin_;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, kept);
    begin_ = 0;
    end_ = kept;
  }
  if (buf_.size() - end_ < chunk_) {
    if (buf_.size() >= kMaxLine)
      throw Error(path_ + ":" + std::to_string(line_) + ": a line longer than " + std::to_string(kMaxLine >> 20) +
                  " MiB; is this a JSON Lines or text file?");
    buf_.resize(end_ + chunk_);
  }
  const size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_.get());
  if (got == 0) {
    if (std::ferror(file_.get())) throw Error(path_ + ": read error");
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

bool LineReader::next(LineRef& out) {
  size_t scanned = begin_;
  for (;;) {
    const void* nl = scanned < end_ ? std::memchr(buf_.data() + scanned, '\n', end_ - scanned) : nullptr;
    if (nl) {
      const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
      out = {std::string_view(buf_.data() + begin_, at - begin_), offset_, line_++};
      offset_ += at + 1 - begin_;
      begin_ = at + 1;
      return true;
    }
    const size_t scanned_from_begin = end_ - begin_;
    if (!fill()) {
      if (begin_ == end_) return false;
      out = {std::string_view(buf_.data() + begin_, end_ - begin_), offset_, line_++};  // last line, no '\n'
      offset_ += end_ - begin_;
      begin_ = end_;
      return true;
    }
    scanned = begin_ + scanned_from_begin;  // fill() moved the tail to the front
  }
}

}  // namespace axl::data
