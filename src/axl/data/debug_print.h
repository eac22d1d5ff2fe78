#pragma once
// What `axolotl preprocess --debug` prints for a sample, like Axolotl's check_example_labels:
// every token as text(label, id), green when trained, red when masked (-100), yellow for
// label 0; ANSI colours optional.
#include <string>

#include "axl/data/tokenized_store.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

std::string format_sample_debug(const tokenizer::Tokenizer& tok, TokenSpan input_ids, TokenSpan labels, bool color);

}  // namespace axl::data
