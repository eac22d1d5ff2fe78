#pragma once
// Lines of a file read lazily, in fixed-size chunks from any byte offset: memory holds one
// chunk plus the line being assembled, whatever the file's size. Each line comes with the
// byte offset it starts at and its 1-based number, so a reader can be reopened exactly there.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace axl::data {

struct LineRef {
  std::string_view text;  // without the '\n' (a trailing '\r' is kept); valid until the next call
  uint64_t offset = 0;    // byte offset of the line's first byte
  uint64_t number = 0;    // 1-based line number
};

class LineReader {
 public:
  static constexpr size_t kDefaultChunk = 1 << 20;
  // A line longer than this is an error (a single document must fit in memory).
  static constexpr size_t kMaxLine = size_t{1} << 30;

  // Opens `path` at `offset` (the start of a line), numbering it `line_number`. Throws
  // axl::Error when the file cannot be read or the offset lies past its end.
  LineReader(const std::string& path, uint64_t offset = 0, uint64_t line_number = 1, size_t chunk_bytes = kDefaultChunk);

  // The next line; false at the end of the file. A last line without '\n' is still a line.
  bool next(LineRef& out);
  const std::string& path() const { return path_; }

 private:
  bool fill();  // reads the next chunk after the unconsumed bytes; false at end of file

  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unconsumed bytes buf_[begin_, end_)
  size_t chunk_;
  uint64_t offset_ = 0;  // file offset of buf_[begin_]
  uint64_t line_ = 1;
  bool eof_ = false;
};

}  // namespace axl::data
