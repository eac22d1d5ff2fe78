#pragma once
// `type: chat_template` (and ShareGPT from/value data through the same mappings): the whole
// conversation rendered with the chat template and tokenized once, every label masked, then
// each trainable turn's content located and unmasked, as Axolotl 0.19 does: the turn is
// swapped for two placeholder texts, the renders are diffed in characters, and the differing
// character span is mapped to tokens through the tokenizer's offsets (a token-diff of
// prefix renders is the fallback). EOT/EOS tokens within 3 tokens after a turn follow
// train_on_eot/train_on_eos (all, turn, last, none).
#include <memory>

#include <nlohmann/json.hpp>

#include "axl/data/prompt_strategy.h"

namespace axl::data {

std::unique_ptr<PromptStrategy> make_chat_template_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                            const tokenizer::Tokenizer& tok);

// The chat template text Axolotl picks for a dataset: the dataset's chat_template /
// chat_template_jinja, else the top-level ones, else the tokenizer's own. A
// chat_template_jinja naming an existing file is read from it.
std::string chat_template_source(const config::DatasetConfig& ds, const config::Config& cfg,
                                 const tokenizer::Tokenizer& tok);
// The same from the tokenizer folder's configuration alone (the dataset cache key needs no
// loaded tokenizer).
std::string chat_template_source(const config::DatasetConfig& ds, const config::Config& cfg,
                                 const tokenizer::TokenizerConfig& tokenizer_config);

// Names a template reads on its messages (message.x, message['x'], loop variables over
// messages): the extra message keys Axolotl passes through beside the mapped ones.
std::vector<std::string> template_message_properties(const std::string& source);

// What a render passes besides the messages, as Axolotl does: the tokenizer's bos/eos/unk/pad
// token strings, and the config's chat_template_kwargs with YAML scalars typed.
nlohmann::ordered_json chat_template_special_tokens(const tokenizer::Tokenizer& tok);
nlohmann::ordered_json chat_template_kwargs(const config::Config& cfg);

}  // namespace axl::data
