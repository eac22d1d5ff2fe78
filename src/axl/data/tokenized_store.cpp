#include "axl/data/tokenized_store.h"

#include <stdexcept>

#include "axl/core/error.h"

namespace axl::data {

TokenizedStore::TokenizedStore(std::vector<std::string> sequence_names)
    : names_(std::move(sequence_names)), tokens_(names_.size()), offsets_(names_.size(), std::vector<uint64_t>{0}) {
  if (names_.empty()) throw std::logic_error("TokenizedStore needs at least one sequence name");
}

size_t TokenizedStore::sequence_index(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  throw Error("tokenized dataset: no sequence named '" + name + "'");
}

void TokenizedStore::append(const std::vector<const std::vector<TokenId>*>& sequences) {
  if (sequences.size() != names_.size())
    throw std::logic_error("TokenizedStore::append: wrong number of sequences");
  for (size_t s = 0; s < names_.size(); ++s) {
    tokens_[s].insert(tokens_[s].end(), sequences[s]->begin(), sequences[s]->end());
    offsets_[s].push_back(tokens_[s].size());
  }
}

void TokenizedStore::append(const std::vector<TokenId>& input_ids, const std::vector<TokenId>& labels) {
  append(std::vector<const std::vector<TokenId>*>{&input_ids, &labels});
}

void TokenizedStore::append_record(const TokenizedStore& other, size_t i) {
  if (other.names_ != names_) throw std::logic_error("TokenizedStore::append_record: different sequences");
  for (size_t s = 0; s < names_.size(); ++s) {
    TokenSpan span = other.sequence(i, s);
    tokens_[s].insert(tokens_[s].end(), span.begin(), span.end());
    offsets_[s].push_back(tokens_[s].size());
  }
}

TokenSpan TokenizedStore::sequence(size_t record, size_t seq) const {
  if (record >= size() || seq >= names_.size()) throw std::out_of_range("TokenizedStore::sequence");
  uint64_t begin = offsets_[seq][record], end = offsets_[seq][record + 1];
  return TokenSpan{tokens_[seq].data() + begin, static_cast<size_t>(end - begin)};
}

}  // namespace axl::data
