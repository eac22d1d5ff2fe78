#pragma once
// SHA-256 (OpenSSL's EVP) for the prepared-dataset cache: the cache key over its inputs and
// the checksum of a cache file's arrays.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace axl::data {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> digest();  // ends the hash
  std::string hex_digest();          // ends the hash

 private:
  void* ctx_;  // EVP_MD_CTX
};

std::string sha256_hex(const std::string& bytes);
// Streams the file; throws axl::Error naming it when it cannot be read.
std::string sha256_file_hex(const std::string& path);
std::string to_hex(const uint8_t* bytes, size_t n);

}  // namespace axl::data
