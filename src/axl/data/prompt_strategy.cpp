#include "axl/data/prompt_strategy.h"

#include "axl/core/error.h"
#include "axl/data/basic_strategies.h"
#include "axl/data/chat_template_strategy.h"
#include "axl/data/instruction_strategy.h"

namespace axl::data {

std::string required_string(const nlohmann::ordered_json& row, const std::string& field) {
  if (!row.contains(field)) throw Error("missing field '" + field + "'");
  const auto& v = row[field];
  if (v.is_null()) return "";  // HF fills a column absent from some rows with None
  if (!v.is_string()) throw Error("field '" + field + "' must be a string, got " + std::string(v.type_name()));
  return v.get<std::string>();
}

std::string optional_string(const nlohmann::ordered_json& row, const std::string& field) {
  if (!row.contains(field) || row[field].is_null()) return "";
  return required_string(row, field);
}

namespace {

std::unique_ptr<PromptStrategy> make_alpaca_family(const std::string& base, const std::string& style,
                                                   const config::DatasetConfig& ds, const config::Config& cfg,
                                                   const tokenizer::Tokenizer& tok) {
  InstructionFormat f = alpaca_format(style);
  if (base == "jeopardy") {
    f.field_instruction = "question";
    f.field_input = "category";
    f.field_output = "answer";
    f.response_prefix = "what is ";
  } else if (base == "oasst") {
    f.field_instruction = "INSTRUCTION";
    f.field_input = "\x01none";  // no input column
    f.field_output = "RESPONSE";
  } else if (base == "gpteacher") {
    f.field_output = "response";
  } else if (base != "alpaca") {
    return nullptr;
  }
  (void)ds;
  return make_instruction_strategy(std::move(f), style.empty() ? base : base + ":" + style, cfg, tok);
}

}  // namespace

std::unique_ptr<PromptStrategy> make_prompt_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                     const tokenizer::Tokenizer& tok) {
  try {
    if (ds.user_type) return make_instruction_strategy(user_defined_format(*ds.user_type), "user_defined", cfg, tok);
    const std::string& type = ds.type;
    if (type.empty()) return make_pretokenized_strategy();
    if (type == "chat_template" || type == "chat_template.load") return make_chat_template_strategy(ds, cfg, tok);
    if (type == "completion") return make_completion_strategy(ds, cfg, tok);
    if (type == "input_output") return make_input_output_strategy(cfg, tok);
    if (type == "pretrain") return make_pretrain_strategy(ds, cfg, tok);
    if (type == "alpaca_chat") {
      std::string style = ds.conversation.value_or("chat");
      return make_instruction_strategy(alpaca_format(style), type, cfg, tok);
    }
    if (type == "alpaca_instruct") return make_instruction_strategy(alpaca_format("instruct"), type, cfg, tok);
    if (type == "alpaca_instruct.load_no_prompt") {
      InstructionFormat f = alpaca_format("instruct");
      f.system_prompt.clear();
      f.system_no_input_prompt.clear();
      return make_instruction_strategy(std::move(f), type, cfg, tok);
    }
    if (type.rfind("sharegpt", 0) == 0)
      throw Error("`type: " + type + "` is deprecated in Axolotl; use `type: chat_template` with "
                  "`field_messages: conversations` and `message_property_mappings: {role: from, content: value}`");
    const size_t colon = type.find(':');
    const std::string base = type.substr(0, colon);
    const std::string style = colon == std::string::npos ? "" : type.substr(colon + 1);
    if (auto s = make_alpaca_family(base, style, ds, cfg, tok)) return s;
    throw Error("unhandled prompt tokenization strategy: " + type +
                " (supported: alpaca[:instruct|chat|chatml|phi], alpaca_chat, alpaca_instruct, jeopardy, oasst, "
                "gpteacher, chat_template, completion, input_output, pretrain, a user-defined dict, or empty for "
                "pre-tokenized data)");
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (!ds.where.empty() && msg.rfind(ds.where, 0) != 0) throw Error(ds.where + ": " + msg);
    throw;
  }
}

}  // namespace axl::data
