#pragma once
// The tokenized dataset: one record per sample, each with the same named token sequences
// ("input_ids", "labels"; preference data will hold "prompt", "chosen", "rejected" the same
// way). Flat layout: per sequence name one big token array plus offsets. A store either owns
// its arrays or views them inside a read-only memory mapping (the prepared-dataset cache,
// tokenized_store_file.h) without copying; appending to a mapped store copies it first.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace axl::data {

using TokenId = int32_t;
constexpr TokenId kIgnoreIndex = -100;  // label of a masked (untrained) token

// A read-only view of a contiguous array (a record's sequence, or a whole flat array).
template <class T>
struct ArrayView {
  const T* ptr = nullptr;
  size_t count = 0;
  const T* begin() const { return ptr; }
  const T* end() const { return ptr + count; }
  const T* data() const { return ptr; }
  size_t size() const { return count; }
  bool empty() const { return count == 0; }
  T operator[](size_t i) const { return ptr[i]; }
  std::vector<T> to_vector() const { return {begin(), end()}; }
  friend bool operator==(const ArrayView& a, const std::vector<T>& b) {
    return a.count == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const ArrayView& a, const ArrayView& b) {
    return a.count == b.count && std::equal(a.begin(), a.end(), b.begin());
  }
};
using TokenSpan = ArrayView<TokenId>;

class TokenizedStore {
 public:
  explicit TokenizedStore(std::vector<std::string> sequence_names = {"input_ids", "labels"});

  // A store over arrays that live in `backing` (kept alive by the store): per sequence its
  // tokens and its size()+1 offsets. The caller has checked the offsets (monotonic, ending at
  // the token count), so reads never leave the arrays.
  struct MappedSequence {
    ArrayView<TokenId> tokens;
    ArrayView<uint64_t> offsets;
  };
  static TokenizedStore mapped(std::vector<std::string> sequence_names, std::vector<MappedSequence> sequences,
                               std::shared_ptr<const void> backing);

  size_t size() const { return records_; }
  bool is_mapped() const { return backing_ != nullptr; }
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

  // The flat arrays (what the cache file holds): tokens of sequence `seq` and the record
  // offsets into it (size()+1 entries per sequence).
  ArrayView<TokenId> tokens(size_t seq) const;
  ArrayView<uint64_t> offsets(size_t seq) const;

 private:
  void make_owned();  // copies mapped arrays into owned vectors (before an append)

  std::vector<std::string> names_;
  size_t records_ = 0;
  std::vector<std::vector<TokenId>> tokens_;  // owned: one flat array per name
  std::vector<std::vector<uint64_t>> offsets_;  // owned: per name, size()+1 record boundaries
  std::shared_ptr<const void> backing_;         // mapped: keeps the mapping alive
  std::vector<MappedSequence> mapped_;          // mapped: views into backing_
};

}  // namespace axl::data
