#pragma once
// tokenizer.json "pre_tokenizer": ByteLevel, Split, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, BertPreTokenizer and Sequence. They cut the non-added pieces
// into words for the model (and Metaspace / ByteLevel add_prefix_space rewrite them).
//
// ByteLevel does not rewrite the text into its 256 stand-in characters here: the BPE model of a
// byte-level tokenizer works on raw bytes instead (same merges, same ids), which is faster and
// keeps alignment trivial. A pre-tokenizer placed after ByteLevel in a Sequence therefore sees
// the raw text, not the stand-in characters (no known model does this).
#include <memory>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/pretokenized.h"

namespace axl::tokenizer {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& pt) const = 0;
  // True when this is (or contains) a ByteLevel step: the model then works on bytes.
  virtual bool byte_level() const { return false; }
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j);  // null -> nullptr

SplitBehavior parse_split_behavior(const nlohmann::json& j, const std::string& what);

}  // namespace axl::tokenizer
