#pragma once
// Open-addressing hash maps for the encode hot path: string_view -> id without building a
// std::string, and (left id, right id) -> merge. Built once at load, read-only afterwards.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace axl::tokenizer {

inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 29);
}

class StringIdMap {
 public:
  void reserve(size_t n);
  // Inserts or overwrites.
  void set(std::string_view key, int32_t id);
  int32_t find(std::string_view key) const {  // -1 when absent
    if (slots_.empty()) return -1;
    size_t mask = slots_.size() - 1;
    const uint64_t h = hash_bytes(key);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && s.len == key.size() && std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
        return s.id;
    }
  }
  size_t size() const { return count_; }
  // Starts loading the slot `key` probes first (loading 280k merges is bound by cache misses).
  void prefetch(std::string_view key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash_bytes(key) & (slots_.size() - 1)]);
  }

 private:
  struct Slot {
    uint32_t offset = 0, len = 0;
    int32_t id = -1;
    uint32_t tag = 0;  // high hash bits: most probes that miss never touch the arena
  };
  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

struct Merge {
  int32_t rank = -1;
  int32_t new_id = -1;
};

class PairMergeMap {
 public:
  void reserve(size_t n);
  void set(int32_t a, int32_t b, Merge m);
  void prefetch(int32_t a, int32_t b) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[mix(pack(a, b)) & (slots_.size() - 1)]);
  }
  Merge find(int32_t a, int32_t b) const {
    if (slots_.empty()) return {};
    uint64_t key = pack(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == key) return slots_[i].value;
      if (slots_[i].key == kEmpty) return {};
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t pack(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static uint64_t mix(uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 31);
  }
  struct Slot {  // key and value side by side: one cache line per probe
    uint64_t key = kEmpty;
    Merge value;
  };
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace axl::tokenizer
