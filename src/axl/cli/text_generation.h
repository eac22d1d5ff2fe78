#pragma once
// Generation shared by the torch side of `generate` and `inference`: the CLI's sampling flags
// as models::GenerateOptions, and a generation that streams its text to stdout.
#include <cstdint>
#include <vector>

#include "axl/cli/command_options.h"
#include "axl/models/causal_lm.h"
#include "axl/models/generation.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

models::GenerateOptions generate_options(const GenerationFlags& flags);

// Prints each new token's text to stdout as soon as it is printable (special tokens skipped),
// then a newline; returns the generated ids (prompt excluded).
std::vector<int64_t> generate_to_stdout(const models::CausalLM& model, const std::vector<int64_t>& prompt,
                                        const models::GenerateOptions& opts, const tokenizer::Tokenizer& tok);

}  // namespace axl::cli
