#pragma once
// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// raw tensor bytes. Reading maps the file and hands out views; nothing is copied until a
// caller asks. No libtorch here (the parser is fuzzed on its own); core/tensor_io.h makes
// at::Tensors from these views.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "axl/core/dtype.h"
#include "axl/core/mapped_file.h"

namespace axl {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::size_t begin = 0;  // offsets relative to the start of the data section
  std::size_t end = 0;
  int64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by begin offset
  std::map<std::string, std::string> metadata;
  std::size_t data_start = 0;  // 8 + header length
};

// Parses and validates the header of a safetensors image of `size` bytes. `file` names the
// source in error messages. Throws axl::Error on any malformed input.
SafetensorsHeader parse_safetensors(const unsigned char* data, std::size_t size,
                                    const std::string& file);

// A borrowed, read-only view of one tensor's bytes; `owner` keeps the mapping alive.
struct TensorView {
  const TensorInfo* info = nullptr;
  const unsigned char* data = nullptr;
  std::size_t nbytes = 0;
  std::shared_ptr<const MappedFile> owner;
};

class SafetensorsFile {
 public:
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  const std::string& path() const { return file_->path(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  TensorView get(const std::string& name) const;  // throws axl::Error if absent

 private:
  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::map<std::string, std::size_t> index_;
};

// A model's weights: one model.safetensors, or shards listed by model.safetensors.index.json.
// Shards are opened lazily, when a tensor in them is first asked for.
class Checkpoint {
 public:
  // `path` is a .safetensors file, an index .json, or a directory holding either.
  static Checkpoint open(const std::string& path);
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  TensorView get(const std::string& name) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::map<std::string, std::string> where_;  // tensor name -> shard path
  mutable std::map<std::string, std::shared_ptr<SafetensorsFile>> shards_;
};

// One tensor to write: bytes are copied from `data` (row-major, `nbytes` long).
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

// Writes atomically, laid out as the reference implementation does (header padded with
// spaces to a multiple of 8, tensors by descending element size, then name).
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace axl
