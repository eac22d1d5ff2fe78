#pragma once
// Chat templates: the Jinja2 `chat_template` of a tokenizer_config.json (or one of Axolotl's
// named templates) rendered exactly as transformers' apply_chat_template(tokenize=False)
// renders it: jinja2's ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks,
// a tojson that keeps non-ASCII text, raise_exception() and strftime_now() globals.
//
// Objects given as nlohmann::ordered_json keep their key order (what tojson prints);
// plain nlohmann::json objects arrive sorted by key.
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "axl/tokenizer/chat/template_error.h"

namespace axl::chat {

struct Stmt;

class ChatTemplate {
 public:
  // Parses once; throws TemplateError (an axl::Error) naming `origin` and the line.
  ChatTemplate(std::string source, std::string origin);

  // template.render(**context). Throws TemplateError on raise_exception() and other errors.
  std::string render(const nlohmann::ordered_json& context) const;
  std::string render(const nlohmann::json& context) const;

  // The clock strftime_now() reads (seconds since the epoch, local time); unset: the real one.
  void set_clock(std::time_t now) { clock_ = now; }
  const std::string& source() const { return source_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string source_, origin_;
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
  std::optional<std::time_t> clock_;

  template <typename Json>
  std::string render_json(const Json& context) const;
};

// transformers' apply_chat_template(messages, tools=tools, documents=None,
// add_generation_prompt=..., tokenize=False, **extra): the variables are messages, tools,
// documents, add_generation_prompt, then the special-tokens map (bos_token, eos_token, ...),
// then `extra` (chat_template_kwargs such as enable_thinking), later ones winning.
std::string apply_chat_template(const ChatTemplate& tmpl, const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                const nlohmann::ordered_json& special_tokens,
                                const nlohmann::ordered_json& extra = nlohmann::ordered_json::object());
std::string apply_chat_template(const ChatTemplate& tmpl, const nlohmann::json& messages,
                                const nlohmann::json& tools, bool add_generation_prompt,
                                const nlohmann::json& special_tokens,
                                const nlohmann::json& extra = nlohmann::json::object());

// Axolotl's named templates (`chat_template: NAME`). Throws axl::Error listing the known
// names for an unknown one.
std::string named_chat_template_source(std::string_view name);
std::vector<std::string> named_chat_template_names();

// Axolotl's choice of template for `chat_template:` / `chat_template_jinja:`:
//   "jinja"                          -> jinja_text (required)
//   "tokenizer_default"              -> tokenizer_template (required)
//   "tokenizer_default_fallback_NAME"-> tokenizer_template if set, else the named NAME
//   any other name                   -> the named template
// Null pointers mean "not given". Throws axl::Error when the choice cannot be satisfied.
std::string resolve_chat_template(std::string_view choice, const std::string* jinja_text,
                                  const std::string* tokenizer_template);

}  // namespace axl::chat
