#pragma once
// Instruction datasets (alpaca and its styles, jeopardy/oasst/gpteacher field variants, the
// user-defined `type:` dict): a prompt built from format strings, then Axolotl's two-call
// tokenization: the prompt (special tokens, no EOS; masked unless train_on_inputs), then the
// response alone (leading BOS removed, EOS added; trained).
#include <memory>
#include <optional>
#include <string>

#include "axl/data/prompt_strategy.h"

namespace axl::data {

// Python str.format with named fields only: "{name}" replaced, "{{" / "}}" literal braces.
// Throws axl::Error for a field not in `values` or an unbalanced brace.
std::string format_named(const std::string& fmt, const std::vector<std::pair<std::string, std::string>>& values);

struct InstructionFormat {
  std::string system_prompt, system_no_input_prompt;  // "" = no system text
  std::string system_format;                          // "{system}" substituted
  std::string turn_format, turn_no_input_format;      // "{instruction}", "{input}"
  // Row fields. field_system: a per-row system text (SystemDataPrompter), "" = none.
  std::string field_instruction = "instruction", field_input = "input", field_output = "output", field_system;
  bool output_required = true;  // alpaca: a missing output is an error; user-defined: ""
  std::string response_prefix;  // jeopardy: "what is "
};

// Axolotl's AlpacaPrompter strings for a style: instruct (default), chat, chatml, phi.
InstructionFormat alpaca_format(const std::string& style);

std::unique_ptr<PromptStrategy> make_instruction_strategy(InstructionFormat format, std::string name,
                                                          const config::Config& cfg, const tokenizer::Tokenizer& tok);

// The user-defined prompt format (`type:` given as a dict).
InstructionFormat user_defined_format(const config::UserDefinedType& t);

}  // namespace axl::data
