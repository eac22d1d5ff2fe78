#pragma once
// A GGUF's embedded tokenizer (tokenizer.ggml.* and tokenizer.chat_template) -> the Hugging
// Face files tokenizer.json, tokenizer_config.json and special_tokens_map.json.
//
// - tokenizer.ggml.model "gpt2": byte-level BPE. The vocabulary, merges and token types are
//   copied as they are; the pre-tokenizer is the regex split llama.cpp applies for
//   tokenizer.ggml.pre ("smollm", "llama-bpe", "qwen2", "gpt-2", "default", ...), written as
//   Split(regex, Isolated) steps followed by ByteLevel; an unknown name is an error.
// - tokenizer.ggml.model "llama": sentencepiece-style vocabulary written as transformers'
//   GGUF loader writes it: BPE with byte_fallback and fuse_unk, merges derived from the scores,
//   normalizer Prepend("▁") + Replace(" ", "▁"), decoder Replace/ByteFallback/Fuse/Strip.
//
// Token types: CONTROL and UNKNOWN become special added tokens, USER_DEFINED non-special
// added tokens. Plain C++, no libtorch.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/models/gguf_file.h"

namespace axl::models {

struct HfTokenizerFiles {
  nlohmann::ordered_json tokenizer;           // tokenizer.json
  nlohmann::ordered_json tokenizer_config;    // tokenizer_config.json
  nlohmann::ordered_json special_tokens_map;  // special_tokens_map.json
  std::vector<std::string> notes;             // one line each, for the user (e.g. a fallback taken)
};

// The inverse, for `axolotl export gguf`: the tokenizer.ggml.pre name (the first of its
// group) whose split regexes are `regexes`, in order; among names with the same regexes, the
// one whose ignore_merges / clean_up_tokenization_spaces flags also match. nullopt when no
// pre-tokenizer llama.cpp knows splits that way.
std::optional<std::string> gguf_pre_tokenizer_name(const std::vector<std::string>& regexes, bool ignore_merges,
                                                   bool clean_spaces);

// nullopt when the GGUF carries no tokenizer at all (neither tokenizer.ggml.model nor
// tokenizer.ggml.tokens). Missing or malformed tokenizer metadata throws axl::Error.
std::optional<HfTokenizerFiles> hf_tokenizer_from_gguf(const GgufFile& gguf);

// Writes the three files atomically into out_dir (created if needed); returns files.notes.
std::vector<std::string> write_hf_tokenizer_files(const HfTokenizerFiles& files, const std::string& out_dir);

// Both steps in one. When the GGUF has no tokenizer, nothing is written and the single note
// returned says so.
std::vector<std::string> write_gguf_tokenizer(const GgufFile& gguf, const std::string& out_dir);

// `axolotl convert gguf --tokenizer-only`: the tokenizer files alone, no weights or config.
// A GGUF without a tokenizer is an error here.
std::vector<std::string> convert_gguf_tokenizer(const std::string& input, const std::string& out_dir);

}  // namespace axl::models
