#pragma once
// tokenizer.json "post_processor": TemplateProcessing, ByteLevel (offset trimming),
// BertProcessing, RobertaProcessing and Sequence. Special tokens they add have offsets (0, 0).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/pretokenized.h"

namespace axl::tokenizer {

// Ids with byte offsets into the original text, before they become an Encoding.
struct RawEncoding {
  std::vector<int32_t> ids;
  std::vector<Span> offsets;
  // Token strings that are not the vocabulary entry of their id (added tokens keep the text
  // they matched, Unigram unknowns their text); "" = the vocabulary entry. Empty when not kept.
  std::vector<std::string> texts;
};

using TokenText = std::function<const std::string*(int32_t)>;  // id -> token string

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(RawEncoding& enc, bool add_special_tokens, const TokenText& text) const = 0;
};

std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j);  // null -> nullptr

}  // namespace axl::tokenizer
