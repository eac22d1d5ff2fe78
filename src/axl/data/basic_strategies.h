#pragma once
// The untemplated dataset types: completion (raw text, trained, split into sequence_len
// chunks), input_output (segments with label flags), pretrain (overlapping windows with EOS)
// and pre-tokenized rows (input_ids/labels columns, `type:` empty).
#include <memory>

#include "axl/data/prompt_strategy.h"

namespace axl::data {

std::unique_ptr<PromptStrategy> make_completion_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                         const tokenizer::Tokenizer& tok);
std::unique_ptr<PromptStrategy> make_input_output_strategy(const config::Config& cfg, const tokenizer::Tokenizer& tok);
std::unique_ptr<PromptStrategy> make_pretrain_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                       const tokenizer::Tokenizer& tok);
std::unique_ptr<PromptStrategy> make_pretokenized_strategy();

}  // namespace axl::data
