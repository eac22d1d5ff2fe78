#include "axl/cli/inference_prompt.h"

#include <optional>

#include "axl/core/error.h"
#include "axl/data/chat_template_strategy.h"
#include "axl/data/instruction_strategy.h"
#include "axl/tokenizer/chat/chat_template.h"

namespace axl::cli {

namespace {

// The instruction format of an alpaca-family dataset type, as the data module builds it for
// training; nullopt for other types.
std::optional<data::InstructionFormat> instruction_format(const config::DatasetConfig& ds) {
  if (ds.user_type) return data::user_defined_format(*ds.user_type);
  const std::string& type = ds.type;
  if (type == "alpaca_chat") return data::alpaca_format(ds.conversation.value_or("chat"));
  if (type == "alpaca_instruct") return data::alpaca_format("instruct");
  if (type == "alpaca_instruct.load_no_prompt") {
    data::InstructionFormat f = data::alpaca_format("instruct");
    f.system_prompt.clear();
    f.system_no_input_prompt.clear();
    return f;
  }
  const size_t colon = type.find(':');
  const std::string base = type.substr(0, colon);
  if (base != "alpaca" && base != "jeopardy" && base != "oasst" && base != "gpteacher") return std::nullopt;
  return data::alpaca_format(colon == std::string::npos ? "" : type.substr(colon + 1));
}

std::vector<int64_t> encode(const tokenizer::Tokenizer& tok, const std::string& text, bool special) {
  std::vector<int64_t> ids;
  for (tokenizer::TokenId id : tok.encode(text, special)) ids.push_back(id);
  return ids;
}

void add_stop_id(const tokenizer::Tokenizer& tok, const std::string& token, std::vector<int64_t>& out) {
  std::vector<tokenizer::TokenId> ids = tok.encode(token, false);
  if (ids.size() == 1) out.push_back(ids[0]);
}

InferencePrompt chat_prompt(const config::Config& cfg, const config::DatasetConfig& ds,
                            const tokenizer::Tokenizer& tok, const std::string& text) {
  const std::string source = data::chat_template_source(ds, cfg, tok);
  const chat::ChatTemplate tmpl(source, "chat template of " + cfg.source_file);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (cfg.default_system_message)
    messages.push_back({{"role", "system"}, {"content", *cfg.default_system_message}});
  messages.push_back({{"role", "user"}, {"content", text}});
  const nlohmann::ordered_json special = data::chat_template_special_tokens(tok);
  const nlohmann::ordered_json extra = data::chat_template_kwargs(cfg);

  InferencePrompt p;
  p.style = "chat_template";
  p.text = chat::apply_chat_template(tmpl, messages, nlohmann::ordered_json(), /*add_generation_prompt=*/true,
                                     special, extra);
  p.ids = encode(tok, p.text, false);
  for (const auto& t : cfg.eot_tokens) add_stop_id(tok, t, p.stop_ids);
  for (const char* t : {"<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>"})
    if (source.find(t) != std::string::npos) add_stop_id(tok, t, p.stop_ids);
  return p;
}

}  // namespace

InferencePrompt format_inference_prompt(const config::Config& cfg, const tokenizer::Tokenizer& tok,
                                        const std::string& user_text, bool raw) {
  InferencePrompt p;
  if (!raw) {
    const config::DatasetConfig* ds = cfg.datasets.empty() ? nullptr : &cfg.datasets.front();
    if (ds) {
      if (auto f = instruction_format(*ds)) {
        // Axolotl's instruction prompt for a row with no input: system text, then the turn.
        std::string prompt;
        if (!f->system_no_input_prompt.empty())
          prompt = data::format_named(f->system_format, {{"system", f->system_no_input_prompt}});
        prompt += data::format_named(f->turn_no_input_format, {{"instruction", user_text}});
        p.style = "alpaca";
        p.text = prompt;
        p.ids = encode(tok, prompt, true);
        return p;
      }
    }
    const bool chat_type = ds && (ds->type == "chat_template" || ds->type == "chat_template.load");
    if (chat_type) return chat_prompt(cfg, *ds, tok, user_text);
    if (cfg.chat_template || cfg.chat_template_jinja) return chat_prompt(cfg, config::DatasetConfig{}, tok, user_text);
  }
  p.style = "raw";
  p.text = user_text;
  p.ids = encode(tok, user_text, true);
  return p;
}

}  // namespace axl::cli
