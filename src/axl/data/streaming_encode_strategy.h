#pragma once
// Unpacked streaming pretraining, as Axolotl's encode_streaming (utils/data/streaming.py)
// tokenizes a document: special tokens added, cut to sequence_len - 2 tokens; when documents
// are concatenated (pretraining_sample_concatenation: true) EOS and PAD follow, labelled EOS
// and -100, so that the next document starts after a masked pad. Labels are the input ids.
#include <memory>

#include "axl/data/prompt_strategy.h"

namespace axl::data {

std::unique_ptr<PromptStrategy> make_streaming_encode_strategy(const std::string& text_column, size_t sequence_len,
                                                               bool concatenate, const tokenizer::Tokenizer& tok,
                                                               TokenId pad_id);

}  // namespace axl::data
