#pragma once
// A thread's memo of BPE results by word. Real text repeats a small set of words, so most
// words are answered here; it was a std::unordered_map<std::string, std::vector<ModelToken>>,
// which paid a key copy, a second hash and two allocations per word. This one is open
// addressing over flat arrays (keys and tokens in arenas, nothing allocated per entry),
// emptied whole when full.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "axl/tokenizer/flat_maps.h"
#include "axl/tokenizer/model.h"

namespace axl::tokenizer {

class BpeWordCache {
 public:
  static constexpr size_t kMaxEntries = 1 << 17;

  // The cached tokens of `word` (`count` of them), or null.
  const ModelToken* find(std::string_view word, size_t& count) const {
    if (slots_.empty()) return nullptr;
    const uint64_t h = hash_bytes(word);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return nullptr;
      if (s.hash == h && s.key_len == word.size() && keys_.compare(s.key_off, s.key_len, word) == 0) {
        count = s.tok_len;
        return tokens_.data() + s.tok_off;
      }
    }
  }

  // Remembers `tokens` for `word` (not already cached, not empty).
  void insert(std::string_view word, const ModelToken* tokens, size_t count) {
    if (entries_ >= kMaxEntries) clear();
    if ((entries_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash_bytes(word);
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].key_len != 0) i = (i + 1) & mask;
    slots_[i] = Slot{h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(word.size()),
                     static_cast<uint32_t>(tokens_.size()), static_cast<uint32_t>(count)};
    keys_.append(word);
    tokens_.insert(tokens_.end(), tokens, tokens + count);
    ++entries_;
  }

  size_t size() const { return entries_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0;  // key_len 0: empty (words are never empty)
    uint32_t tok_off = 0, tok_len = 0;
  };

  void clear() {
    slots_.clear();
    keys_.clear();
    tokens_.clear();
    entries_ = 0;
  }

  // Doubles the table (from 1024 slots; tokenizers made for a few words stay small).
  void grow() {
    std::vector<Slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key_len == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].key_len != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<ModelToken> tokens_;
  size_t entries_ = 0;
};

}  // namespace axl::tokenizer
