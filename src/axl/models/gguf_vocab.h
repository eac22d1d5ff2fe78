#pragma once
// A Hugging Face model folder's tokenizer -> GGUF tokenizer metadata (tokenizer.ggml.* and
// tokenizer.chat_template), as llama.cpp's convert_hf_to_gguf.py writes it:
// - byte-level BPE tokenizer.json -> "gpt2": tokens, token types, merges ("a b") and the
//   tokenizer.ggml.pre name whose split regexes the tokenizer.json pre-tokenizer uses;
// - sentencepiece tokenizer.model -> "llama": pieces, scores and types from the model;
// - a sentencepiece-style tokenizer.json (BPE with byte_fallback) without tokenizer.model ->
//   "llama" too, each merged token scored by its merge rank (llama.cpp merges the pair whose
//   result scores highest, which is the pair HF's BPE merges first).
// The token list is padded to the model's embedding rows with [PAD{i}] (UNUSED) tokens, as
// convert_hf_to_gguf pads it. Special ids come from tokenizer_config.json (else config.json).
#include <cstdint>
#include <string>
#include <vector>

#include "axl/models/gguf_writer.h"

namespace axl::models {

// Adds the metadata to `w`; returns one-line notes for the user. A folder without a tokenizer,
// or with one llama.cpp cannot represent, is an axl::Error.
std::vector<std::string> add_gguf_vocab(GgufWriter& w, const std::string& model_dir, int64_t vocab_size,
                                        int64_t config_bos_id, const std::vector<int64_t>& config_eos_ids);

}  // namespace axl::models
