#pragma once
// GGUF (llama.cpp's single-file checkpoints), versions 2 and 3, little-endian: header,
// metadata key/values, tensor infos, aligned tensor data. Reading maps the file and keeps
// views; every offset and count is checked against the file size before it is used, so a
// malformed or hostile file is an axl::Error, never a crash or a huge allocation. Plain C++,
// no libtorch (the parser is fuzzable on its own).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axl/core/mapped_file.h"

namespace axl::models {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_value_type_name(GgufValueType t);

// ggml tensor element types, numbered as ggml.h numbers them. Gaps are ids ggml retired.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41,
};

// Elements per block and bytes per block; nullopt for an id ggml does not define.
struct GgmlTypeTraits {
  const char* name;
  uint32_t block_size;
  uint32_t type_size;
};
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);
const char* ggml_type_name(GgmlType t);

// One metadata value. Scalars fill exactly one of u64 / i64 / f64 / str (BOOL uses u64);
// arrays fill exactly one of the vectors, chosen by elem_type the same way.
struct GgufValue {
  GgufValueType type = GgufValueType::UINT8;
  GgufValueType elem_type = GgufValueType::UINT8;  // ARRAY only
  uint64_t u64 = 0;
  int64_t i64 = 0;
  double f64 = 0.0;
  std::string str;
  std::vector<uint64_t> u64s;
  std::vector<int64_t> i64s;
  std::vector<double> f64s;
  std::vector<std::string> strs;

  bool is_array() const { return type == GgufValueType::ARRAY; }
  bool is_string() const { return type == GgufValueType::STRING; }
  // Any integer or bool scalar, when the value fits; nullopt otherwise.
  std::optional<int64_t> as_int() const;
  // Any integer or float scalar.
  std::optional<double> as_double() const;
  std::size_t array_size() const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the fastest-varying dim
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;      // relative to the start of the tensor data section
  uint64_t nbytes = 0;
  int64_t numel() const;
  // Row-major (torch) order, i.e. ne reversed.
  std::vector<int64_t> shape() const;
};

struct GgufHeader {
  uint32_t version = 0;
  uint32_t alignment = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata;  // file order
  std::vector<GgufTensorInfo> tensors;                      // file order
  uint64_t data_start = 0;  // file offset of the tensor data section
};

// Parses and validates a GGUF image of `size` bytes; `file` names it in errors. Tensor data
// ranges are checked to lie inside the image. Throws axl::Error on any malformed input.
GgufHeader parse_gguf(const unsigned char* data, std::size_t size, const std::string& file);

class GgufFile {
 public:
  static std::shared_ptr<GgufFile> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return header_.version; }
  uint32_t alignment() const { return header_.alignment; }
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return header_.metadata; }
  const std::vector<GgufTensorInfo>& tensors() const { return header_.tensors; }
  uint64_t data_start() const { return header_.data_start; }

  const GgufValue* find(const std::string& key) const;                 // nullptr when absent
  const GgufTensorInfo* find_tensor(const std::string& name) const;    // nullptr when absent
  const GgufTensorInfo& tensor(const std::string& name) const;         // throws axl::Error
  const unsigned char* tensor_data(const GgufTensorInfo& t) const;

  // Typed metadata lookups whose errors name the file and the key. The *_or forms return
  // `fallback` only when the key is absent; a present key of the wrong type is an error.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int_or(const std::string& key, int64_t fallback) const;
  double get_double(const std::string& key) const;
  double get_double_or(const std::string& key, double fallback) const;

 private:
  std::shared_ptr<MappedFile> file_;
  GgufHeader header_;
  std::map<std::string, std::size_t> kv_index_;
  std::map<std::string, std::size_t> tensor_index_;
};

}  // namespace axl::models
