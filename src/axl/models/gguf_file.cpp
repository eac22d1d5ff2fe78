#include "axl/models/gguf_file.h"

#include <cstring>
#include <limits>

#include "axl/core/error.h"

namespace axl::models {

namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Smallest encoded size of one value of each type, used to reject counts the remaining bytes
// cannot possibly hold before anything is allocated for them.
uint64_t min_encoded_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING: return 8;
    case GgufValueType::ARRAY: return 12;
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::FLOAT64); }

// A bounds-checked little-endian cursor over the mapped bytes.
class Cursor {
 public:
  Cursor(const unsigned char* data, std::size_t size, const std::string& file)
      : data_(data), size_(size), file_(file) {}

  std::size_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(const std::string& what) const { throw Error(file_ + ": " + what); }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      fail("truncated GGUF file: " + what + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(pos_) + ", only " + std::to_string(remaining()) + " left");
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));  // x86/ARM hosts are little-endian like the file
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& what) {
    uint64_t len = read<uint64_t>(what + " length");
    if (len > remaining())
      fail(what + ": string length " + std::to_string(len) + " runs past the end of the file (" +
           std::to_string(remaining()) + " bytes left at offset " + std::to_string(pos_) + ")");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(len));
    pos_ += static_cast<std::size_t>(len);
    return s;
  }

 private:
  const unsigned char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& file_;
};

// Reads one scalar of type `t` into `v`'s scalar slot.
void read_scalar(Cursor& c, GgufValueType t, GgufValue& v, const std::string& what) {
  switch (t) {
    case GgufValueType::UINT8: v.u64 = c.read<uint8_t>(what); break;
    case GgufValueType::INT8: v.i64 = c.read<int8_t>(what); break;
    case GgufValueType::UINT16: v.u64 = c.read<uint16_t>(what); break;
    case GgufValueType::INT16: v.i64 = c.read<int16_t>(what); break;
    case GgufValueType::UINT32: v.u64 = c.read<uint32_t>(what); break;
    case GgufValueType::INT32: v.i64 = c.read<int32_t>(what); break;
    case GgufValueType::UINT64: v.u64 = c.read<uint64_t>(what); break;
    case GgufValueType::INT64: v.i64 = c.read<int64_t>(what); break;
    case GgufValueType::FLOAT32: v.f64 = c.read<float>(what); break;
    case GgufValueType::FLOAT64: v.f64 = c.read<double>(what); break;
    case GgufValueType::BOOL: {
      uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.fail(what + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.u64 = b;
      break;
    }
    case GgufValueType::STRING: v.str = c.read_string(what); break;
    case GgufValueType::ARRAY: c.fail(what + ": unexpected array");
  }
}

bool is_unsigned(GgufValueType t) {
  return t == GgufValueType::UINT8 || t == GgufValueType::UINT16 || t == GgufValueType::UINT32 ||
         t == GgufValueType::UINT64 || t == GgufValueType::BOOL;
}
bool is_signed(GgufValueType t) {
  return t == GgufValueType::INT8 || t == GgufValueType::INT16 || t == GgufValueType::INT32 ||
         t == GgufValueType::INT64;
}
bool is_float(GgufValueType t) { return t == GgufValueType::FLOAT32 || t == GgufValueType::FLOAT64; }

GgufValue read_value(Cursor& c, const std::string& key) {
  const std::string what = "metadata key '" + key + "'";
  uint32_t type = c.read<uint32_t>(what + " type");
  if (!valid_value_type(type)) c.fail(what + " has unknown value type " + std::to_string(type));
  GgufValue v;
  v.type = static_cast<GgufValueType>(type);
  if (v.type != GgufValueType::ARRAY) {
    read_scalar(c, v.type, v, what);
    return v;
  }
  uint32_t elem = c.read<uint32_t>(what + " array element type");
  if (!valid_value_type(elem))
    c.fail(what + " is an array of unknown value type " + std::to_string(elem));
  v.elem_type = static_cast<GgufValueType>(elem);
  if (v.elem_type == GgufValueType::ARRAY) c.fail(what + " is a nested array, which is not supported");
  uint64_t count = c.read<uint64_t>(what + " array length");
  if (count > c.remaining() / min_encoded_size(v.elem_type))
    c.fail(what + " claims " + std::to_string(count) + " array elements, more than the " +
           std::to_string(c.remaining()) + " bytes left can hold");
  const auto n = static_cast<std::size_t>(count);
  GgufValue e;
  if (v.elem_type == GgufValueType::STRING) {
    v.strs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) v.strs.push_back(c.read_string(what + "[" + std::to_string(i) + "]"));
  } else if (is_float(v.elem_type)) {
    v.f64s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      read_scalar(c, v.elem_type, e, what);
      v.f64s.push_back(e.f64);
    }
  } else if (is_signed(v.elem_type)) {
    v.i64s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      read_scalar(c, v.elem_type, e, what);
      v.i64s.push_back(e.i64);
    }
  } else {
    v.u64s.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      read_scalar(c, v.elem_type, e, what);
      v.u64s.push_back(e.u64);
    }
  }
  return v;
}

// a * b, or false when it would not fit in int64.
bool mul_checked(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > kInt64Max / a) return false;
  out = a * b;
  return true;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "uint8";
    case GgufValueType::INT8: return "int8";
    case GgufValueType::UINT16: return "uint16";
    case GgufValueType::INT16: return "int16";
    case GgufValueType::UINT32: return "uint32";
    case GgufValueType::INT32: return "int32";
    case GgufValueType::FLOAT32: return "float32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::UINT64: return "uint64";
    case GgufValueType::INT64: return "int64";
    case GgufValueType::FLOAT64: return "float64";
  }
  return "?";
}

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
  // GGML_QUANT_SIZES in gguf-py's constants.py; QK_K = 256.
  switch (static_cast<GgmlType>(id)) {
    case GgmlType::F32: return GgmlTypeTraits{"F32", 1, 4};
    case GgmlType::F16: return GgmlTypeTraits{"F16", 1, 2};
    case GgmlType::Q4_0: return GgmlTypeTraits{"Q4_0", 32, 18};
    case GgmlType::Q4_1: return GgmlTypeTraits{"Q4_1", 32, 20};
    case GgmlType::Q5_0: return GgmlTypeTraits{"Q5_0", 32, 22};
    case GgmlType::Q5_1: return GgmlTypeTraits{"Q5_1", 32, 24};
    case GgmlType::Q8_0: return GgmlTypeTraits{"Q8_0", 32, 34};
    case GgmlType::Q8_1: return GgmlTypeTraits{"Q8_1", 32, 40};
    case GgmlType::Q2_K: return GgmlTypeTraits{"Q2_K", 256, 84};
    case GgmlType::Q3_K: return GgmlTypeTraits{"Q3_K", 256, 110};
    case GgmlType::Q4_K: return GgmlTypeTraits{"Q4_K", 256, 144};
    case GgmlType::Q5_K: return GgmlTypeTraits{"Q5_K", 256, 176};
    case GgmlType::Q6_K: return GgmlTypeTraits{"Q6_K", 256, 210};
    case GgmlType::Q8_K: return GgmlTypeTraits{"Q8_K", 256, 292};
    case GgmlType::IQ2_XXS: return GgmlTypeTraits{"IQ2_XXS", 256, 66};
    case GgmlType::IQ2_XS: return GgmlTypeTraits{"IQ2_XS", 256, 74};
    case GgmlType::IQ3_XXS: return GgmlTypeTraits{"IQ3_XXS", 256, 98};
    case GgmlType::IQ1_S: return GgmlTypeTraits{"IQ1_S", 256, 50};
    case GgmlType::IQ4_NL: return GgmlTypeTraits{"IQ4_NL", 32, 18};
    case GgmlType::IQ3_S: return GgmlTypeTraits{"IQ3_S", 256, 110};
    case GgmlType::IQ2_S: return GgmlTypeTraits{"IQ2_S", 256, 82};
    case GgmlType::IQ4_XS: return GgmlTypeTraits{"IQ4_XS", 256, 136};
    case GgmlType::I8: return GgmlTypeTraits{"I8", 1, 1};
    case GgmlType::I16: return GgmlTypeTraits{"I16", 1, 2};
    case GgmlType::I32: return GgmlTypeTraits{"I32", 1, 4};
    case GgmlType::I64: return GgmlTypeTraits{"I64", 1, 8};
    case GgmlType::F64: return GgmlTypeTraits{"F64", 1, 8};
    case GgmlType::IQ1_M: return GgmlTypeTraits{"IQ1_M", 256, 56};
    case GgmlType::BF16: return GgmlTypeTraits{"BF16", 1, 2};
    case GgmlType::TQ1_0: return GgmlTypeTraits{"TQ1_0", 256, 54};
    case GgmlType::TQ2_0: return GgmlTypeTraits{"TQ2_0", 256, 66};
    case GgmlType::MXFP4: return GgmlTypeTraits{"MXFP4", 32, 17};
    case GgmlType::NVFP4: return GgmlTypeTraits{"NVFP4", 64, 36};
    case GgmlType::Q1_0: return GgmlTypeTraits{"Q1_0", 128, 18};
  }
  return std::nullopt;
}

const char* ggml_type_name(GgmlType t) {
  auto tr = ggml_type_traits(static_cast<uint32_t>(t));
  return tr ? tr->name : "unknown";
}

std::optional<int64_t> GgufValue::as_int() const {
  if (is_signed(type)) return i64;
  if (is_unsigned(type) && u64 <= kInt64Max) return static_cast<int64_t>(u64);
  return std::nullopt;
}

std::optional<double> GgufValue::as_double() const {
  if (is_float(type)) return f64;
  if (is_signed(type)) return static_cast<double>(i64);
  if (is_unsigned(type) && type != GgufValueType::BOOL) return static_cast<double>(u64);
  return std::nullopt;
}

std::size_t GgufValue::array_size() const {
  return u64s.size() + i64s.size() + f64s.size() + strs.size();
}

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::vector<int64_t> GgufTensorInfo::shape() const { return {ne.rbegin(), ne.rend()}; }

GgufHeader parse_gguf(const unsigned char* data, std::size_t size, const std::string& file) {
  Cursor c(data, size, file);
  GgufHeader h;
  c.need(4, "magic");
  if (std::memcmp(data, "GGUF", 4) != 0) c.fail("not a GGUF file (the first 4 bytes are not 'GGUF')");
  c.read<uint32_t>("magic");
  h.version = c.read<uint32_t>("version");
  if (h.version == 0x02000000u || h.version == 0x03000000u)
    c.fail("big-endian GGUF files are not supported");
  if (h.version == 1) c.fail("GGUF version 1 is not supported (re-export with a current llama.cpp)");
  if (h.version != 2 && h.version != 3)
    c.fail("unsupported GGUF version " + std::to_string(h.version) + " (expected 2 or 3)");
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");

  // A key/value takes at least 13 bytes (8 key length, 4 type, 1 value).
  if (n_kv > c.remaining() / 13)
    c.fail("header claims " + std::to_string(n_kv) + " metadata entries, more than the file can hold");
  h.metadata.reserve(static_cast<std::size_t>(n_kv));
  std::map<std::string, bool> seen;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("metadata key #" + std::to_string(i));
    if (seen.count(key)) c.fail("duplicate metadata key '" + key + "'");
    seen[key] = true;
    GgufValue v = read_value(c, key);
    h.metadata.emplace_back(std::move(key), std::move(v));
  }
  for (const auto& [key, v] : h.metadata) {
    if (key != "general.alignment") continue;
    auto a = v.as_int();
    if (!a || v.type == GgufValueType::BOOL || *a <= 0 || *a > (1 << 30) || (*a & (*a - 1)) != 0)
      c.fail("metadata key 'general.alignment' must be a positive power of two");
    h.alignment = static_cast<uint32_t>(*a);
  }

  // A tensor info takes at least 24 bytes (8 name length, 4 n_dims, 4 type, 8 offset).
  if (n_tensors > c.remaining() / 24)
    c.fail("header claims " + std::to_string(n_tensors) + " tensors, more than the file can hold");
  h.tensors.reserve(static_cast<std::size_t>(n_tensors));
  std::map<std::string, bool> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string("tensor #" + std::to_string(i) + " name");
    const std::string what = "tensor '" + t.name + "'";
    if (names.count(t.name)) c.fail("duplicate " + what);
    names[t.name] = true;
    uint32_t n_dims = c.read<uint32_t>(what + " dim count");
    if (n_dims > kMaxDims)
      c.fail(what + " has " + std::to_string(n_dims) + " dims; GGUF allows at most 4");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.read<uint64_t>(what + " dims");
      if (ne > kInt64Max || !mul_checked(numel, ne, numel))
        c.fail(what + " has an impossible shape (dim " + std::to_string(ne) + ")");
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    uint32_t type = c.read<uint32_t>(what + " type");
    auto tr = ggml_type_traits(type);
    if (!tr) c.fail(what + " has unknown ggml type " + std::to_string(type));
    t.type = static_cast<GgmlType>(type);
    const uint64_t row = t.ne.empty() ? 1 : static_cast<uint64_t>(t.ne[0]);
    if (row % tr->block_size != 0)
      c.fail(what + " row length " + std::to_string(row) + " is not a multiple of the " + tr->name +
             " block size " + std::to_string(tr->block_size));
    uint64_t blocks = numel / tr->block_size;
    if (!mul_checked(blocks, tr->type_size, t.nbytes)) c.fail(what + " is impossibly large");
    t.offset = c.read<uint64_t>(what + " data offset");
    if (t.offset % h.alignment != 0)
      c.fail(what + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
             std::to_string(h.alignment));
    h.tensors.push_back(std::move(t));
  }

  const uint64_t pos = c.pos();
  h.data_start = (pos + h.alignment - 1) / h.alignment * h.alignment;
  const uint64_t data_size = h.data_start <= size ? size - h.data_start : 0;
  for (const auto& t : h.tensors) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      c.fail("tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", +" +
             std::to_string(t.nbytes) + ") lies past the end of the file (data section has " +
             std::to_string(data_size) + " bytes; truncated?)");
  }
  return h;
}

std::shared_ptr<GgufFile> GgufFile::open(const std::string& path) {
  auto f = std::shared_ptr<GgufFile>(new GgufFile());
  f->file_ = MappedFile::open(path);
  f->header_ = parse_gguf(f->file_->data(), f->file_->size(), path);
  for (std::size_t i = 0; i < f->header_.metadata.size(); ++i) f->kv_index_[f->header_.metadata[i].first] = i;
  for (std::size_t i = 0; i < f->header_.tensors.size(); ++i) f->tensor_index_[f->header_.tensors[i].name] = i;
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &header_.metadata[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &header_.tensors[it->second];
}

const GgufTensorInfo& GgufFile::tensor(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (!t) throw Error(path() + ": tensor '" + name + "' is missing");
  return *t;
}

const unsigned char* GgufFile::tensor_data(const GgufTensorInfo& t) const {
  return file_->data() + header_.data_start + t.offset;
}

namespace {
[[noreturn]] void wrong_type(const std::string& file, const std::string& key, const GgufValue& v,
                             const char* expected) {
  std::string got = gguf_value_type_name(v.type);
  if (v.is_array()) got += std::string(" of ") + gguf_value_type_name(v.elem_type);
  throw Error(file + ": metadata key '" + key + "' is " + got + ", expected " + expected);
}
}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path() + ": metadata key '" + key + "' is missing");
  if (!v->is_string()) wrong_type(path(), key, *v, "a string");
  return v->str;
}

int64_t GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path() + ": metadata key '" + key + "' is missing");
  auto i = v->as_int();
  if (!i || v->type == GgufValueType::BOOL) wrong_type(path(), key, *v, "an integer");
  return *i;
}

int64_t GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return find(key) ? get_int(key) : fallback;
}

double GgufFile::get_double(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path() + ": metadata key '" + key + "' is missing");
  auto d = v->as_double();
  if (!d) wrong_type(path(), key, *v, "a number");
  return *d;
}

double GgufFile::get_double_or(const std::string& key, double fallback) const {
  return find(key) ? get_double(key) : fallback;
}

}  // namespace axl::models
