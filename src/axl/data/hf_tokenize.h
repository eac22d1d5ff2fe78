#pragma once
// How Axolotl calls a transformers tokenizer, reproduced on our Tokenizer:
//   tokenizer(text, truncation=True, max_length=N): special tokens added, the text's own
//   tokens cut so that the whole (specials included) fits in N;
//   PromptTokenizingStrategy._tokenize(text, add_eos_token, strip_bos_token): the above, then
//   EOS appended (when missing and shorter than N), then a leading BOS dropped.
#include <cstddef>
#include <string_view>
#include <vector>

#include "axl/data/tokenized_store.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

std::vector<TokenId> encode_truncated(const tokenizer::Tokenizer& tok, std::string_view text, size_t max_length);

// Empty text gives no tokens at all (no BOS, no EOS), as in Axolotl.
std::vector<TokenId> axolotl_tokenize(const tokenizer::Tokenizer& tok, std::string_view text, size_t max_length,
                                      bool add_eos_token, bool strip_bos_token);

}  // namespace axl::data
