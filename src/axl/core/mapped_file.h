#pragma once
// A read-only memory mapping of a whole file. Shared by every tensor view into it, so the
// mapping lives as long as the last tensor that borrows from it.
#include <cstddef>
#include <memory>
#include <string>

namespace axl {

class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace axl
