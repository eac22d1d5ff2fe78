#include "axl/tokenizer/flat_maps.h"

namespace axl::tokenizer {

namespace {
size_t capacity_for(size_t n) {
  size_t c = 16;
  while (c < n * 2) c <<= 1;
  return c;
}
}  // namespace

void StringIdMap::reserve(size_t n) {
  if (capacity_for(n) <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity_for(n), Slot{});
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    std::string_view key(arena_.data() + s.offset, s.len);
    size_t i = hash_bytes(key) & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}


void StringIdMap::set(std::string_view key, int32_t id) {
  if ((count_ + 1) * 2 > slots_.size()) reserve(count_ + 1 < 8 ? 8 : count_ * 2);
  size_t mask = slots_.size() - 1;
  const uint64_t h = hash_bytes(key);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id < 0) {
      s.offset = static_cast<uint32_t>(arena_.size());
      s.len = static_cast<uint32_t>(key.size());
      s.id = id;
      s.tag = tag;
      arena_.append(key);
      ++count_;
      return;
    }
    if (s.tag == tag && s.len == key.size() && std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
      s.id = id;
      return;
    }
  }
}

void PairMergeMap::reserve(size_t n) {
  if (capacity_for(n) <= slots_.size()) return;
  std::vector<Slot> old(capacity_for(n));
  old.swap(slots_);
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = mix(s.key) & mask;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void PairMergeMap::set(int32_t a, int32_t b, Merge m) {
  if ((count_ + 1) * 2 > slots_.size()) reserve(count_ + 1 < 8 ? 8 : count_ * 2);
  uint64_t key = pack(a, b);
  size_t mask = slots_.size() - 1;
  for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.value = m;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.value = m;
      ++count_;
      return;
    }
  }
}

}  // namespace axl::tokenizer
