#include "axl/data/tokenized_store.h"

#include <stdexcept>

#include "axl/core/error.h"

namespace axl::data {

TokenizedStore::TokenizedStore(std::vector<std::string> sequence_names)
    : names_(std::move(sequence_names)), tokens_(names_.size()), offsets_(names_.size(), std::vector<uint64_t>{0}) {
  if (names_.empty()) throw std::logic_error("TokenizedStore needs at least one sequence name");
}

TokenizedStore TokenizedStore::mapped(std::vector<std::string> sequence_names, std::vector<MappedSequence> sequences,
                                      std::shared_ptr<const void> backing) {
  if (sequences.size() != sequence_names.size() || sequences.empty() || !backing)
    throw std::logic_error("TokenizedStore::mapped: one mapped sequence per name and a backing are needed");
  TokenizedStore s(std::move(sequence_names));
  s.records_ = sequences[0].offsets.size() - 1;
  for (const auto& m : sequences)
    if (m.offsets.size() != s.records_ + 1) throw std::logic_error("TokenizedStore::mapped: offsets differ in length");
  s.tokens_.assign(s.names_.size(), {});
  s.offsets_.assign(s.names_.size(), {});
  s.mapped_ = std::move(sequences);
  s.backing_ = std::move(backing);
  return s;
}

size_t TokenizedStore::sequence_index(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  throw Error("tokenized dataset: no sequence named '" + name + "'");
}

void TokenizedStore::make_owned() {
  if (!backing_) return;
  for (size_t s = 0; s < names_.size(); ++s) {
    tokens_[s] = mapped_[s].tokens.to_vector();
    offsets_[s] = mapped_[s].offsets.to_vector();
  }
  mapped_.clear();
  backing_.reset();
}

void TokenizedStore::append(const std::vector<const std::vector<TokenId>*>& sequences) {
  if (sequences.size() != names_.size())
    throw std::logic_error("TokenizedStore::append: wrong number of sequences");
  make_owned();
  for (size_t s = 0; s < names_.size(); ++s) {
    tokens_[s].insert(tokens_[s].end(), sequences[s]->begin(), sequences[s]->end());
    offsets_[s].push_back(tokens_[s].size());
  }
  ++records_;
}

void TokenizedStore::append(const std::vector<TokenId>& input_ids, const std::vector<TokenId>& labels) {
  append(std::vector<const std::vector<TokenId>*>{&input_ids, &labels});
}

void TokenizedStore::append_record(const TokenizedStore& other, size_t i) {
  if (other.names_ != names_) throw std::logic_error("TokenizedStore::append_record: different sequences");
  make_owned();
  for (size_t s = 0; s < names_.size(); ++s) {
    TokenSpan span = other.sequence(i, s);
    tokens_[s].insert(tokens_[s].end(), span.begin(), span.end());
    offsets_[s].push_back(tokens_[s].size());
  }
  ++records_;
}

ArrayView<TokenId> TokenizedStore::tokens(size_t seq) const {
  if (seq >= names_.size()) throw std::out_of_range("TokenizedStore::tokens");
  if (backing_) return mapped_[seq].tokens;
  return {tokens_[seq].data(), tokens_[seq].size()};
}

ArrayView<uint64_t> TokenizedStore::offsets(size_t seq) const {
  if (seq >= names_.size()) throw std::out_of_range("TokenizedStore::offsets");
  if (backing_) return mapped_[seq].offsets;
  return {offsets_[seq].data(), offsets_[seq].size()};
}

TokenSpan TokenizedStore::sequence(size_t record, size_t seq) const {
  if (record >= size() || seq >= names_.size()) throw std::out_of_range("TokenizedStore::sequence");
  const ArrayView<uint64_t> off = offsets(seq);
  const uint64_t begin = off[record], end = off[record + 1];
  return TokenSpan{tokens(seq).data() + begin, static_cast<size_t>(end - begin)};
}

}  // namespace axl::data
