#pragma once
// tokenizer.json "added_tokens": found in the text before the model runs (leftmost, longest
// first, as HF's Aho-Corasick does), honouring lstrip / rstrip / single_word. Tokens with
// normalized=false are matched in the raw input, the others in the normalized text.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/added_token.h"
#include "axl/tokenizer/pretokenized.h"

namespace axl::tokenizer {

// A byte trie of token contents, matching leftmost-longest.
class TokenTrie {
 public:
  void add(const std::string& s, int32_t token_index);
  bool empty() const { return nodes_.size() <= 1; }
  // Longest token starting at text[pos]; returns its length (0 = none) and sets `token_index`.
  size_t longest_at(std::string_view text, size_t pos, int32_t& token_index) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;
    int32_t token = -1;
  };
  std::vector<Node> nodes_{1};
  int32_t root_[256] = {};  // child of the root per byte; 0 = none
};

class AddedVocabulary {
 public:
  void add(AddedToken t) { tokens_.push_back(std::move(t)); }
  // Builds the two tries; `normalize` maps a normalized token's content to its normalized form.
  // An entry with the same content takes the new flags and id (tokenizers' add_tokens);
  // call build() again afterwards.
  void add_or_replace(AddedToken t);
  template <class F>
  void build(F&& normalize) {
    raw_ = TokenTrie();
    normalized_ = TokenTrie();
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].content.empty()) continue;
      if (tokens_[i].normalized) normalized_.add(normalize(tokens_[i].content), static_cast<int32_t>(i));
      else raw_.add(tokens_[i].content, static_cast<int32_t>(i));
    }
  }
  // Cuts added tokens out of the non-added pieces (the raw set or the normalized set).
  void split(PreTokenized& pt, bool normalized_set) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  TokenTrie raw_, normalized_;
};

AddedToken parse_added_token(const nlohmann::json& j);

}  // namespace axl::tokenizer
