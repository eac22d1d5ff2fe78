#pragma once
// The prompt of `axolotl inference`: the user's text formatted the way the config's first
// dataset trains, so a fine-tuned model sees at inference what it saw in training:
//   alpaca-style types (and a user-defined `type:` dict) -> the instruction prompt, text as
//     the instruction, no input, encoded with the tokenizer's special tokens (BOS);
//   type: chat_template, or a config with chat_template / chat_template_jinja -> the chat
//     template over one user message (plus default_system_message when set) with
//     add_generation_prompt, encoded without special tokens (as apply_chat_template does);
//   anything else, or raw -> the text as it is, with the tokenizer's special tokens.
#include <cstdint>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

struct InferencePrompt {
  std::string style;  // "alpaca", "chat_template" or "raw": said on stderr
  std::string text;   // the formatted prompt
  std::vector<int64_t> ids;
  // End-of-turn ids to stop at besides EOS: the config's eot_tokens and the usual turn
  // terminators (<|im_end|>, <|eot_id|>, <end_of_turn>, <|end|>) the template writes, when
  // each is one token.
  std::vector<int64_t> stop_ids;
};

InferencePrompt format_inference_prompt(const config::Config& cfg, const tokenizer::Tokenizer& tok,
                                        const std::string& user_text, bool raw);

}  // namespace axl::cli
