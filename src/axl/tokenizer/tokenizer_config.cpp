#include "axl/tokenizer/tokenizer_config.h"

#include <fstream>
#include <sstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::tokenizer {

namespace {

// A special token is a string or an AddedToken dict {"content": ...}.
std::optional<std::string> token_string(const nlohmann::json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw Error(file + ": \"" + key + "\" must be a string or {\"content\": ...}");
}

std::optional<bool> opt_bool(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

}  // namespace

TokenizerConfig load_tokenizer_config(const std::filesystem::path& dir) {
  TokenizerConfig c;
  auto cfg_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) {
    std::string file = cfg_path.string();
    c.raw = read_json_file(file);
    if (!c.raw.is_object()) throw Error(file + ": must be a JSON object");
    c.bos_token = token_string(c.raw, "bos_token", file);
    c.eos_token = token_string(c.raw, "eos_token", file);
    c.pad_token = token_string(c.raw, "pad_token", file);
    c.unk_token = token_string(c.raw, "unk_token", file);
    c.add_bos_token = opt_bool(c.raw, "add_bos_token");
    c.add_eos_token = opt_bool(c.raw, "add_eos_token");
    c.legacy = opt_bool(c.raw, "legacy");
    if (c.raw.contains("tokenizer_class") && c.raw["tokenizer_class"].is_string())
      c.tokenizer_class = c.raw["tokenizer_class"].get<std::string>();
    if (c.raw.contains("model_max_length")) {
      const auto& m = c.raw["model_max_length"];
      if (m.is_number_integer()) c.model_max_length = m.get<int64_t>();
      else if (m.is_number_float() && m.get<double>() < 9e18) c.model_max_length = static_cast<int64_t>(m.get<double>());
    }
    if (c.raw.contains("chat_template")) {
      const auto& t = c.raw["chat_template"];
      if (t.is_string()) {
        c.chat_template = t.get<std::string>();
      } else if (t.is_array()) {
        for (const auto& e : t) {
          if (!e.is_object() || !e.contains("name") || !e.contains("template") || !e["name"].is_string() ||
              !e["template"].is_string())
            throw Error(file + ": chat_template list entries must be {\"name\": ..., \"template\": ...}");
          c.chat_templates[e["name"].get<std::string>()] = e["template"].get<std::string>();
        }
        auto def = c.chat_templates.find("default");
        if (def != c.chat_templates.end()) c.chat_template = def->second;
      } else if (!t.is_null()) {
        throw Error(file + ": chat_template must be a string or a list of {name, template}");
      }
    }
  }
  auto map_path = dir / "special_tokens_map.json";
  if (std::filesystem::exists(map_path)) {
    std::string file = map_path.string();
    auto m = read_json_file(file);
    if (!m.is_object()) throw Error(file + ": must be a JSON object");
    if (auto v = token_string(m, "bos_token", file)) c.bos_token = v;
    if (auto v = token_string(m, "eos_token", file)) c.eos_token = v;
    if (auto v = token_string(m, "pad_token", file)) c.pad_token = v;
    if (auto v = token_string(m, "unk_token", file)) c.unk_token = v;
  }
  auto jinja = dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja)) {
    std::ifstream in(jinja, std::ios::binary);
    if (!in) throw Error(jinja.string() + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    c.chat_template = ss.str();
  }
  return c;
}

}  // namespace axl::tokenizer
