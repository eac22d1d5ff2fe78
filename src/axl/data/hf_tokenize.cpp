#include "axl/data/hf_tokenize.h"

#include <algorithm>

namespace axl::data {

std::vector<TokenId> encode_truncated(const tokenizer::Tokenizer& tok, std::string_view text, size_t max_length) {
  std::vector<TokenId> full = tok.encode(text, true);
  if (full.size() <= max_length) return full;
  // Find which ids the post-processor added around the text's own ids, then cut the text's
  // ids (from the right, HF's default) so that the specials still fit.
  std::vector<TokenId> plain = tok.encode(text, false);
  size_t prefix = 0;
  const size_t added = full.size() - plain.size();
  while (prefix < added && !std::equal(plain.begin(), plain.end(), full.begin() + static_cast<std::ptrdiff_t>(prefix)))
    ++prefix;
  const size_t suffix = added - prefix;
  const size_t keep = max_length > added ? max_length - added : 0;
  std::vector<TokenId> out(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(prefix));
  out.insert(out.end(), plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(std::min(keep, plain.size())));
  out.insert(out.end(), full.end() - static_cast<std::ptrdiff_t>(suffix), full.end());
  return out;
}

std::vector<TokenId> axolotl_tokenize(const tokenizer::Tokenizer& tok, std::string_view text, size_t max_length,
                                      bool add_eos_token, bool strip_bos_token) {
  if (text.empty()) return {};
  std::vector<TokenId> ids = encode_truncated(tok, text, max_length);
  if (ids.empty()) return ids;
  const auto& sp = tok.special_tokens();
  // transformers compares with eos_token_id, which is None without an EOS: never equal, and
  // appending None would fail, so only a real EOS id is appended.
  if (add_eos_token && sp.eos_id && ids.back() != *sp.eos_id && ids.size() < max_length) ids.push_back(*sp.eos_id);
  if (strip_bos_token && sp.bos_id && ids.front() == *sp.bos_id) ids.erase(ids.begin());
  return ids;
}

}  // namespace axl::data
