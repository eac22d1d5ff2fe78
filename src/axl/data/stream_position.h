#pragma once
// Where a token stream stands: the document the next packed row starts with (file, byte
// offset, line) and how many of that document's samples earlier rows already hold. Rows are
// cut only at sample boundaries, so this is all an exact resume needs: reopen the file at
// the offset, re-tokenize that one document, drop its first `sample` samples, and pack on.
// The trainer saves it in each checkpoint's trainer_state.json (stateful_callbacks).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace axl::data {

struct StreamPosition {
  uint64_t pass = 0;    // completed passes over all the files (the stream loops at the end)
  uint64_t file = 0;    // index in the stream's file list
  uint64_t offset = 0;  // byte offset of the document in that file
  uint64_t line = 1;    // its 1-based line, for messages
  uint64_t sample = 0;  // samples of that document already packed into earlier rows
  uint64_t rows = 0;    // rows produced before this position (from the stream's start)

  nlohmann::json to_json() const;
  // Throws axl::Error naming `where` for a malformed entry.
  static StreamPosition from_json(const nlohmann::json& j, const std::string& where);
  bool operator==(const StreamPosition& o) const;
};

// What a saved position is valid for: the files (path and size) and the row layout. A resume
// onto other files or another layout would repeat or skip tokens, so it is refused.
struct StreamIdentity {
  std::vector<std::string> files;
  std::vector<uint64_t> sizes;
  std::string layout;  // rows' capacity and packing mode, e.g. "packed 256 restart-positions"

  nlohmann::json to_json() const;
  static StreamIdentity from_json(const nlohmann::json& j, const std::string& where);
  // Throws axl::Error naming `where` and the first difference.
  void check_same(const StreamIdentity& now, const std::string& where) const;
};

// A position with the identity it belongs to: what a checkpoint holds.
struct SavedStreamPosition {
  StreamPosition position;
  StreamIdentity identity;

  nlohmann::json to_json() const;
  static SavedStreamPosition from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace axl::data
