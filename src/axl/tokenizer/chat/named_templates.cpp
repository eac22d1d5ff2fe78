// Axolotl's named chat templates (`chat_template: NAME`) and the resolution of a config's
// chat_template / chat_template_jinja choice. The texts live in named_templates_*.cpp.
#include <map>

#include "axl/core/error.h"
#include "axl/tokenizer/chat/chat_template.h"
#include "axl/tokenizer/chat/named_template_texts.h"

namespace axl::chat {

namespace {

const std::map<std::string, std::string>& templates() {
  static const std::map<std::string, std::string> table = [] {
    std::map<std::string, std::string> t;
    add_general_templates(t);
    add_family_templates(t);
    return t;
  }();
  return table;
}

std::string known_names() {
  std::string names;
  for (const auto& kv : templates()) names += (names.empty() ? "" : ", ") + kv.first;
  return names + ", jinja, tokenizer_default, tokenizer_default_fallback_<name>";
}

}  // namespace

std::vector<std::string> named_chat_template_names() {
  std::vector<std::string> names;
  for (const auto& kv : templates()) names.push_back(kv.first);
  return names;
}

std::string named_chat_template_source(std::string_view name) {
  auto it = templates().find(std::string(name));
  if (it == templates().end())
    throw axl::Error("chat_template: unknown template '" + std::string(name) + "' (known: " + known_names() + ")");
  return it->second;
}

std::string resolve_chat_template(std::string_view choice, const std::string* jinja_text,
                                  const std::string* tokenizer_template) {
  const std::string c(choice);
  if (c == "jinja") {
    if (!jinja_text || jinja_text->empty())
      throw axl::Error("chat_template: 'jinja' needs the template text in chat_template_jinja");
    return *jinja_text;
  }
  if (c == "tokenizer_default") {
    if (!tokenizer_template || tokenizer_template->empty())
      throw axl::Error("chat_template: 'tokenizer_default' but the tokenizer has no chat_template; add one to "
                       "tokenizer_config.json or pick a named template");
    return *tokenizer_template;
  }
  const std::string fallback = "tokenizer_default_fallback_";
  if (c.rfind(fallback, 0) == 0) {
    if (tokenizer_template && !tokenizer_template->empty()) return *tokenizer_template;
    return named_chat_template_source(c.substr(fallback.size()));
  }
  return named_chat_template_source(c);
}

}  // namespace axl::chat
