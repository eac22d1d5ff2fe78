#include "axl/models/gguf_writer.h"

#include <cstring>
#include <ostream>
#include <set>
#include <stdexcept>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/shape_string.h"

namespace axl::models {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kGgufVersion = 3;
constexpr std::size_t kMaxNameBytes = 63;  // GGML_MAX_NAME - 1

template <typename T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);  // little-endian hosts, like the format
}

void put_string(std::ostream& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

enum class Slot { Unsigned, Signed, Float, String, None };

Slot slot_of(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::UINT16: case GgufValueType::UINT32:
    case GgufValueType::UINT64: case GgufValueType::BOOL: return Slot::Unsigned;
    case GgufValueType::INT8: case GgufValueType::INT16: case GgufValueType::INT32:
    case GgufValueType::INT64: return Slot::Signed;
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: return Slot::Float;
    case GgufValueType::STRING: return Slot::String;
    case GgufValueType::ARRAY: return Slot::None;
  }
  return Slot::None;
}

void put_scalar(std::ostream& out, GgufValueType t, uint64_t u, int64_t i, double f, const std::string& s) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::BOOL: put<uint8_t>(out, static_cast<uint8_t>(u)); break;
    case GgufValueType::UINT16: put<uint16_t>(out, static_cast<uint16_t>(u)); break;
    case GgufValueType::UINT32: put<uint32_t>(out, static_cast<uint32_t>(u)); break;
    case GgufValueType::UINT64: put<uint64_t>(out, u); break;
    case GgufValueType::INT8: put<int8_t>(out, static_cast<int8_t>(i)); break;
    case GgufValueType::INT16: put<int16_t>(out, static_cast<int16_t>(i)); break;
    case GgufValueType::INT32: put<int32_t>(out, static_cast<int32_t>(i)); break;
    case GgufValueType::INT64: put<int64_t>(out, i); break;
    case GgufValueType::FLOAT32: put<float>(out, static_cast<float>(f)); break;
    case GgufValueType::FLOAT64: put<double>(out, f); break;
    case GgufValueType::STRING: put_string(out, s); break;
    case GgufValueType::ARRAY: throw std::logic_error("GGUF arrays of arrays are not written");
  }
}

void put_value(std::ostream& out, const GgufValue& v) {
  put<uint32_t>(out, static_cast<uint32_t>(v.type));
  if (!v.is_array()) {
    put_scalar(out, v.type, v.u64, v.i64, v.f64, v.str);
    return;
  }
  put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
  put<uint64_t>(out, v.array_size());
  static const std::string none;
  for (std::size_t k = 0; k < v.array_size(); ++k)
    switch (slot_of(v.elem_type)) {
      case Slot::Unsigned: put_scalar(out, v.elem_type, v.u64s[k], 0, 0, none); break;
      case Slot::Signed: put_scalar(out, v.elem_type, 0, v.i64s[k], 0, none); break;
      case Slot::Float: put_scalar(out, v.elem_type, 0, 0, v.f64s[k], none); break;
      case Slot::String: put_scalar(out, v.elem_type, 0, 0, 0, v.strs[k]); break;
      case Slot::None: throw std::logic_error("GGUF arrays of arrays are not written");
    }
}

// The one filled vector of an array must match elem_type (what the reader fills).
void check_value(const std::string& key, const GgufValue& v) {
  if (!v.is_array()) return;
  const Slot s = slot_of(v.elem_type);
  const std::size_t filled = (s == Slot::Unsigned ? v.u64s.size() : 0) + (s == Slot::Signed ? v.i64s.size() : 0) +
                             (s == Slot::Float ? v.f64s.size() : 0) + (s == Slot::String ? v.strs.size() : 0);
  const std::size_t all = v.u64s.size() + v.i64s.size() + v.f64s.size() + v.strs.size();
  if (s == Slot::None || filled != all || all == 0)
    throw std::logic_error("GGUF key " + key + ": array values must fill exactly the vector of their elem_type, non-empty");
}

uint64_t pad_to(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

GgufValue scalar(GgufValueType t, uint64_t u, int64_t i, double f, std::string str = {}) {
  GgufValue g;
  g.type = t;
  g.u64 = u;
  g.i64 = i;
  g.f64 = f;
  g.str = std::move(str);
  return g;
}

GgufValue array_of(GgufValueType elem) {
  GgufValue g;
  g.type = GgufValueType::ARRAY;
  g.elem_type = elem;
  return g;
}

}  // namespace

uint64_t ggml_nbytes(GgmlType type, int64_t numel) {
  const auto tr = ggml_type_traits(static_cast<uint32_t>(type));
  if (!tr) throw std::logic_error("ggml_nbytes: unknown ggml type");
  if (numel < 0 || numel % tr->block_size) throw std::logic_error("ggml_nbytes: numel is not a whole number of blocks");
  return static_cast<uint64_t>(numel) / tr->block_size * tr->type_size;
}

void GgufWriter::add(const std::string& key, GgufValue value) {
  for (const auto& kv : kvs_)
    if (kv.first == key) throw std::logic_error("GGUF key written twice: " + key);
  check_value(key, value);
  if (key == "general.alignment") {
    const auto a = value.as_int();
    if (value.type != GgufValueType::UINT32 || !a || *a <= 0 || (*a & (*a - 1)))
      throw std::logic_error("general.alignment must be a u32 power of two");
    alignment_ = static_cast<uint32_t>(*a);
  }
  kvs_.emplace_back(key, std::move(value));
}

void GgufWriter::add_string(const std::string& key, const std::string& v) { add(key, scalar(GgufValueType::STRING, 0, 0, 0, v)); }
void GgufWriter::add_u32(const std::string& key, uint32_t v) { add(key, scalar(GgufValueType::UINT32, v, 0, 0)); }
void GgufWriter::add_i32(const std::string& key, int32_t v) { add(key, scalar(GgufValueType::INT32, 0, v, 0)); }
void GgufWriter::add_f32(const std::string& key, float v) { add(key, scalar(GgufValueType::FLOAT32, 0, 0, v)); }
void GgufWriter::add_bool(const std::string& key, bool v) { add(key, scalar(GgufValueType::BOOL, v ? 1 : 0, 0, 0)); }

void GgufWriter::add_strings(const std::string& key, std::vector<std::string> v) {
  GgufValue g = array_of(GgufValueType::STRING);
  g.strs = std::move(v);
  add(key, std::move(g));
}

void GgufWriter::add_f32s(const std::string& key, const std::vector<float>& v) {
  GgufValue g = array_of(GgufValueType::FLOAT32);
  g.f64s.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufWriter::add_i32s(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue g = array_of(GgufValueType::INT32);
  g.i64s.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                            TensorBytes bytes) {
  if (name.empty() || name.size() > kMaxNameBytes)
    throw Error("GGUF tensor name '" + name + "' must be 1 to 63 bytes long (ggml's limit)");
  for (const auto& t : tensors_)
    if (t.info.name == name) throw std::logic_error("GGUF tensor written twice: " + name);
  if (shape.empty() || shape.size() > 4) throw std::logic_error("GGUF tensor " + name + ": 1 to 4 dims");
  const auto tr = ggml_type_traits(static_cast<uint32_t>(type));
  if (!tr) throw std::logic_error("GGUF tensor " + name + ": unknown ggml type");
  for (int64_t d : shape)
    if (d <= 0) throw Error("GGUF tensor " + name + " has shape " + shape_string(shape) + "; every dim must be positive");
  if (shape.back() % tr->block_size)
    throw Error("GGUF tensor " + name + " has rows of " + std::to_string(shape.back()) + " values, not a multiple of " +
                tr->name + "'s block of " + std::to_string(tr->block_size));
  Pending p;
  p.info.name = name;
  p.info.ne.assign(shape.rbegin(), shape.rend());
  p.info.type = type;
  p.info.nbytes = ggml_nbytes(type, p.info.numel());
  p.bytes = std::move(bytes);
  tensors_.push_back(std::move(p));
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                            std::vector<unsigned char> bytes) {
  auto shared = std::make_shared<std::vector<unsigned char>>(std::move(bytes));
  add_tensor(name, shape, type, [shared] { return std::move(*shared); });
}

void GgufWriter::write(const std::string& path) const {
  write_file_atomic(path, [&](std::ostream& out) {
    put<uint32_t>(out, kGgufMagic);
    put<uint32_t>(out, kGgufVersion);
    put<uint64_t>(out, tensors_.size());
    put<uint64_t>(out, kvs_.size());
    for (const auto& [key, value] : kvs_) {
      put_string(out, key);
      put_value(out, value);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      put_string(out, t.info.name);
      put<uint32_t>(out, static_cast<uint32_t>(t.info.ne.size()));
      for (int64_t d : t.info.ne) put<uint64_t>(out, static_cast<uint64_t>(d));
      put<uint32_t>(out, static_cast<uint32_t>(t.info.type));
      put<uint64_t>(out, offset);
      offset += pad_to(t.info.nbytes, alignment_);
    }
    const std::string zeros(alignment_, '\0');
    auto pad = [&] {
      const auto pos = static_cast<uint64_t>(out.tellp());
      out.write(zeros.data(), static_cast<std::streamsize>(pad_to(pos, alignment_) - pos));
    };
    pad();
    for (const auto& t : tensors_) {
      const std::vector<unsigned char> bytes = t.bytes();
      if (bytes.size() != t.info.nbytes)
        throw std::logic_error("GGUF tensor " + t.info.name + ": produced " + std::to_string(bytes.size()) +
                               " bytes, its type and shape need " + std::to_string(t.info.nbytes));
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      pad();
    }
  });
}

}  // namespace axl::models
