#pragma once
// A config's `special_tokens:` and `tokens:` applied to its tokenizer, in Axolotl's order
// (loaders/tokenizer.py): bos/eos/pad/unk as special tokens, then `tokens` as plain added
// tokens, then additional_special_tokens. All are added with normalized/lstrip/rstrip false,
// so they are cut out of the raw text before the model's pieces.
#include <memory>
#include <string>

#include "axl/config/config.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

// Adds the config's tokens to `tok`. With an adapter, new tokens need the embeddings and head
// in lora_modules_to_save (axl::Error with Axolotl's message otherwise). Returns how many ids
// are new (the model's embeddings must then grow to tok.vocab_size()).
size_t apply_config_tokens(const config::Config& cfg, tokenizer::Tokenizer& tok);

// The tokenizer a config trains with: loaded from tokenizer_dir_for(cfg), config tokens added.
std::unique_ptr<tokenizer::Tokenizer> load_config_tokenizer(const config::Config& cfg);

// axl::Error unless every config token is in `tok` (a tokenizer loaded without
// apply_config_tokens would split them into ordinary pieces).
void check_config_tokens(const config::Config& cfg, const tokenizer::Tokenizer& tok);

}  // namespace axl::data
