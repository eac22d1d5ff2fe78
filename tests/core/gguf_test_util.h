#pragma once
// Helpers shared by the GGUF tests: a GGUF image builder (little-endian, as the format is),
// writing scratch files, and locating the peer references made by scripts/make-peer-refs.sh.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "axl/models/gguf_file.h"
#include "tests/fixtures.h"

namespace axl::test::gguf {

using axl::models::GgmlType;
using axl::models::GgufValueType;

inline void put_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
inline void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
inline void put_str(std::string& s, const std::string& v) {
  put_u64(s, v.size());
  s += v;
}

struct Builder {
  uint32_t version = 3;
  uint32_t alignment = 32;
  std::string kvs, infos, data;
  uint64_t n_kv = 0, n_tensors = 0;

  Builder& kv_raw(const std::string& key, GgufValueType type, const std::string& payload) {
    put_str(kvs, key);
    put_u32(kvs, static_cast<uint32_t>(type));
    kvs += payload;
    ++n_kv;
    return *this;
  }
  Builder& kv_u32(const std::string& key, uint32_t v) {
    std::string p;
    put_u32(p, v);
    return kv_raw(key, GgufValueType::UINT32, p);
  }
  Builder& kv_f32(const std::string& key, float v) {
    return kv_raw(key, GgufValueType::FLOAT32, std::string(reinterpret_cast<const char*>(&v), 4));
  }
  Builder& kv_str(const std::string& key, const std::string& v) {
    std::string p;
    put_str(p, v);
    return kv_raw(key, GgufValueType::STRING, p);
  }
  // ne in ggml order (fastest first); bytes appended to the data section, padded.
  Builder& tensor(const std::string& name, std::vector<uint64_t> ne, GgmlType type, const std::string& bytes) {
    put_str(infos, name);
    put_u32(infos, static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) put_u64(infos, d);
    put_u32(infos, static_cast<uint32_t>(type));
    put_u64(infos, data.size());
    data += bytes;
    data.resize((data.size() + alignment - 1) / alignment * alignment, '\0');
    ++n_tensors;
    return *this;
  }
  Builder& f32_tensor(const std::string& name, std::vector<uint64_t> ne, const std::vector<float>& v) {
    return tensor(name, std::move(ne), GgmlType::F32,
                  std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  std::string build() const {
    std::string s = "GGUF";
    put_u32(s, version);
    put_u64(s, n_tensors);
    put_u64(s, n_kv);
    s += kvs + infos;
    s.resize((s.size() + alignment - 1) / alignment * alignment, '\0');
    return s + data;
  }
};

inline std::string write_file(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace axl::test::gguf

