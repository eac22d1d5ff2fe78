#pragma once
// Writes GGUF v3 files, the layout gguf_file.h reads: header, metadata key/values in the order
// added, tensor infos, then every tensor's bytes at an offset that is a multiple of the
// alignment (32 unless general.alignment says otherwise), zero-padded as gguf-py's GGUFWriter
// pads them. Tensor bytes are produced one tensor at a time while the file is written, so a
// model never has to sit in memory twice; the file appears atomically (temp file + rename).
// Plain C++, no libtorch.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "axl/models/gguf_file.h"

namespace axl::models {

class GgufWriter {
 public:
  // Produces a tensor's bytes when the writer reaches it; must return exactly the size the
  // tensor's type and shape imply.
  using TensorBytes = std::function<std::vector<unsigned char>()>;

  // A repeated key or a malformed value is a std::logic_error (callers build them).
  void add(const std::string& key, GgufValue value);
  void add_string(const std::string& key, const std::string& v);
  void add_u32(const std::string& key, uint32_t v);
  void add_i32(const std::string& key, int32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_strings(const std::string& key, std::vector<std::string> v);
  void add_f32s(const std::string& key, const std::vector<float>& v);
  void add_i32s(const std::string& key, const std::vector<int32_t>& v);

  // `shape` is row-major (torch order; written reversed as ggml's ne). The row length
  // (shape.back()) must be a whole number of `type`'s blocks: axl::Error naming the tensor
  // otherwise. Names are unique and at most 63 bytes (ggml's limit), at most 4 dims.
  void add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type, TensorBytes bytes);
  void add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                  std::vector<unsigned char> bytes);

  uint32_t alignment() const { return alignment_; }
  std::size_t tensor_count() const { return tensors_.size(); }

  // Writes the whole file atomically; `path`'s folder must exist.
  void write(const std::string& path) const;

 private:
  struct Pending {
    GgufTensorInfo info;
    TensorBytes bytes;
  };
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<Pending> tensors_;
  uint32_t alignment_ = 32;
  uint64_t data_size_ = 0;  // running, padded
};

// Bytes a tensor of `type` with `numel` elements takes (numel a whole number of blocks).
uint64_t ggml_nbytes(GgmlType type, int64_t numel);

}  // namespace axl::models
