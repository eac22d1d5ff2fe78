#pragma once
// tokenizer_config.json (+ special_tokens_map.json, chat_template.jinja): the special tokens,
// BOS/EOS flags, model_max_length and chat templates transformers reads beside a tokenizer.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace axl::tokenizer {

struct TokenizerConfig {
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  std::optional<bool> add_bos_token, add_eos_token;
  std::optional<bool> legacy;
  std::optional<int64_t> model_max_length;  // unset when absent or "unlimited" (HF's 1e30)
  std::optional<std::string> tokenizer_class;
  std::optional<std::string> chat_template;         // the default template
  std::map<std::string, std::string> chat_templates;  // named ones (a list in the config)
  nlohmann::json raw = nlohmann::json::object();      // tokenizer_config.json as read
};

// Reads the files from `dir`; missing files give an empty config. special_tokens_map.json
// entries win over tokenizer_config.json ones (as in transformers), and chat_template.jinja
// wins over the config's chat_template.
TokenizerConfig load_tokenizer_config(const std::filesystem::path& dir);

}  // namespace axl::tokenizer
