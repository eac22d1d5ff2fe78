#include "axl/tokenizer/added_vocabulary.h"

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

void TokenTrie::add(const std::string& s, int32_t token_index) {
  int32_t node = 0;
  for (unsigned char c : s) {
    int32_t child = -1;
    for (auto& [byte, idx] : nodes_[node].next)
      if (byte == c) child = idx;
    if (child < 0) {
      child = static_cast<int32_t>(nodes_.size());
      nodes_[node].next.push_back({c, child});
      nodes_.emplace_back();
      if (node == 0) root_[c] = child;
    }
    node = child;
  }
  if (nodes_[node].token < 0) nodes_[node].token = token_index;  // first definition wins
}

size_t TokenTrie::longest_at(std::string_view text, size_t pos, int32_t& token_index) const {
  int32_t node = root_[static_cast<unsigned char>(text[pos])];
  size_t best = 0;
  for (size_t i = pos + 1; node > 0; ++i) {
    if (nodes_[node].token >= 0) {
      best = i - pos;
      token_index = nodes_[node].token;
    }
    if (i >= text.size()) break;
    int32_t child = 0;
    unsigned char c = static_cast<unsigned char>(text[i]);
    for (auto& [byte, idx] : nodes_[node].next)
      if (byte == c) {
        child = idx;
        break;
      }
    node = child;
  }
  return best;
}

namespace {

bool word_char(char32_t c) { return utf8::is_alphanumeric(c) || c == '_'; }

char32_t last_char(std::string_view s) {
  size_t j = s.size() - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  return utf8::next(s, j);
}

}  // namespace

void AddedVocabulary::split(PreTokenized& pt, bool normalized_set) const {
  const TokenTrie& trie = normalized_set ? normalized_ : raw_;
  if (trie.empty()) return;
  std::vector<Piece> out;
  out.reserve(pt.pieces.size());
  for (const Piece& p : pt.pieces) {
    if (p.is_added()) {
      out.push_back(p);
      continue;
    }
    std::string_view s = pt.view(p);
    size_t start_offset = 0;  // end of the previous match
    for (size_t pos = 0; pos < s.size();) {
      int32_t ti = -1;
      size_t len = trie.longest_at(s, pos, ti);
      if (len == 0) {
        ++pos;
        continue;
      }
      const AddedToken& t = tokens_[ti];
      size_t start = pos, stop = pos + len;
      pos = stop;
      if (t.single_word) {
        bool start_ok = start == 0 || !word_char(last_char(s.substr(0, start)));
        size_t k = stop;
        bool stop_ok = stop == s.size() || !word_char(utf8::next(s, k));
        if (!start_ok || !stop_ok) continue;
      }
      if (t.lstrip) {
        size_t b = start;
        while (b > start_offset) {
          size_t j = b - 1;
          while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
          size_t k = j;
          if (!utf8::is_whitespace(utf8::next(s, k))) break;
          b = j;
        }
        start = b;
      }
      if (t.rstrip) {
        while (stop < s.size()) {
          size_t k = stop;
          if (!utf8::is_whitespace(utf8::next(s, k))) break;
          stop = k;
        }
        pos = stop;
      }
      if (start > start_offset) out.push_back({p.begin + static_cast<uint32_t>(start_offset), p.begin + static_cast<uint32_t>(start), -1});
      out.push_back({p.begin + static_cast<uint32_t>(start), p.begin + static_cast<uint32_t>(stop), t.id});
      start_offset = stop;
    }
    if (start_offset < s.size() || s.empty())
      out.push_back({p.begin + static_cast<uint32_t>(start_offset), p.end, -1});
  }
  pt.pieces.swap(out);
}

void AddedVocabulary::add_or_replace(AddedToken t) {
  for (auto& old : tokens_)
    if (old.content == t.content) {
      old = std::move(t);
      return;
    }
  tokens_.push_back(std::move(t));
}

AddedToken parse_added_token(const nlohmann::json& j) {
  const std::string what = "tokenizer.json: added_tokens entry";
  if (!j.is_object()) throw Error(what + " must be an object");
  AddedToken t;
  t.content = json_string(j, "content", what);
  t.id = static_cast<int32_t>(json_int(j, "id", what + " '" + t.content + "'"));
  t.special = json_bool(j, "special", false);
  t.lstrip = json_bool(j, "lstrip", false);
  t.rstrip = json_bool(j, "rstrip", false);
  t.single_word = json_bool(j, "single_word", false);
  t.normalized = json_bool(j, "normalized", !t.special);
  return t;
}

}  // namespace axl::tokenizer
