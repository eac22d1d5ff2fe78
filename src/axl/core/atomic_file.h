#pragma once
// Writes a file so readers see either the old content or the whole new content, never a
// half-written file: write to a temporary name in the same folder, fsync, then rename.
#include <functional>
#include <ostream>
#include <string>

namespace axl {

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& body);
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace axl
