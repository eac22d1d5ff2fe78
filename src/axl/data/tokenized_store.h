#pragma once
// The tokenized dataset: one record per sample, each with the same named token sequences
// ("input_ids", "labels"; preference data will hold "prompt", "chosen", "rejected" the same
// way). Flat layout: per sequence name one big token array plus offsets, so a later issue can
// memory-map the same layout from disk without changing readers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace axl::data {

using TokenId = int32_t;
constexpr TokenId kIgnoreIndex = -100;  // label of a masked (untrained) token

// A read-only view of one record's sequence inside the flat array.
struct TokenSpan {
  const TokenId* ptr = nullptr;
  size_t count = 0;
  const TokenId* begin() const { return ptr; }
  const TokenId* end() const { return ptr + count; }
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  TokenId operator[](size_t i) const { return ptr[i]; }
  std::vector<TokenId> to_vector() const { return {begin(), end()}; }
};

class TokenizedStore {
 public:
  explicit TokenizedStore(std::vector<std::string> sequence_names = {"input_ids", "labels"});

  size_t size() const { return offsets_[0].size() - 1; }
  const std::vector<std::string>& sequence_names() const { return names_; }
  // Index of a sequence name; throws axl::Error for an unknown one.
  size_t sequence_index(const std::string& name) const;

  // Appends one record; `sequences` holds one vector per name, in sequence_names() order.
  void append(const std::vector<const std::vector<TokenId>*>& sequences);
  void append(const std::vector<TokenId>& input_ids, const std::vector<TokenId>& labels);
  // Copies record `i` of `other` (same sequence names) to the end of this store.
  void append_record(const TokenizedStore& other, size_t i);

  TokenSpan sequence(size_t record, size_t seq) const;
  TokenSpan input_ids(size_t record) const { return sequence(record, 0); }
  TokenSpan labels(size_t record) const { return sequence(record, 1); }

  // The flat arrays (what a memory-mapped cache will write): tokens of sequence `seq` and the
  // record offsets into it (size()+1 entries per sequence).
  const std::vector<TokenId>& tokens(size_t seq) const { return tokens_[seq]; }
  const std::vector<uint64_t>& offsets(size_t seq) const { return offsets_[seq]; }

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<TokenId>> tokens_;  // one flat array per name
  std::vector<std::vector<uint64_t>> offsets_;  // per name: size()+1 record boundaries
};

}  // namespace axl::data
