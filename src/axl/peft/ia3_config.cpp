#include "axl/peft/ia3_config.h"

#include <regex>

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

bool FeedforwardModules::matches(const std::string& path) const {
  if (regex) return std::regex_match(path, std::regex(*regex));
  for (const auto& n : names)
    if (path.size() >= n.size() && path.compare(path.size() - n.size(), n.size(), n) == 0) return true;
  return false;
}

nlohmann::json FeedforwardModules::to_json() const {
  if (regex) return *regex;
  return names;
}

nlohmann::json Ia3Config::to_json() const {
  nlohmann::json j;
  write_common_peft_fields(j, "IA3", base_model_name_or_path, task_type, modules_to_save);
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["feedforward_modules"] = feedforward_modules ? feedforward_modules->to_json() : nlohmann::json(nullptr);
  j["init_ia3_weights"] = init_ia3_weights;
  targets_to_config(target_modules, j, /*with_layers=*/false);
  return j;
}

Ia3Config Ia3Config::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  Ia3Config c;
  try {
    if (j.contains("fan_in_fan_out")) c.fan_in_fan_out = j["fan_in_fan_out"].get<bool>();
    if (j.contains("init_ia3_weights")) c.init_ia3_weights = j["init_ia3_weights"].get<bool>();
    read_common_peft_fields(j, c.base_model_name_or_path, c.task_type, c.modules_to_save);
    c.target_modules = targets_from_config(j, source, /*with_layers=*/false);
    if (j.contains("feedforward_modules") && !j["feedforward_modules"].is_null()) {
      const auto& f = j["feedforward_modules"];
      FeedforwardModules ff;
      if (f.is_string()) {
        ff.regex = f.get<std::string>();
        try {
          std::regex check(*ff.regex);
        } catch (const std::regex_error& e) {
          throw Error(source + ": feedforward_modules: invalid regular expression '" + *ff.regex + "'");
        }
      } else {
        ff.names = f.get<std::vector<std::string>>();
      }
      c.feedforward_modules = ff;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad IA3 setting (" + e.what() + ")");
  }
  // PEFT refuses feed-forward names that are not targets (both given as lists).
  if (c.feedforward_modules && !c.feedforward_modules->regex && c.target_modules &&
      c.target_modules->kind == TargetModules::Kind::List && !c.target_modules->names.empty())
    for (const auto& f : c.feedforward_modules->names) {
      bool listed = false;
      for (const auto& t : c.target_modules->names) listed = listed || t == f;
      if (!listed) throw Error(source + ": feedforward_modules entry '" + f + "' is not in target_modules");
    }
  return c;
}

std::vector<std::string> default_ia3_targets(const std::string& model_type) {
  if (model_type == "llama" || model_type == "mistral") return {"k_proj", "v_proj", "down_proj"};
  if (model_type == "qwen2" || model_type == "qwen3" || model_type == "gemma" || model_type == "gemma2")
    return {"q_proj", "v_proj", "down_proj"};
  if (model_type == "gpt2") return {"c_attn", "mlp.c_proj"};
  throw Error("IA3: no default target_modules for model_type '" + model_type +
              "'; set target_modules and feedforward_modules");
}

std::vector<std::string> default_ia3_feedforward(const std::string& model_type) {
  if (model_type == "gpt2") return {"mlp.c_proj"};
  if (model_type == "llama" || model_type == "mistral" || model_type == "qwen2" || model_type == "qwen3" ||
      model_type == "gemma" || model_type == "gemma2")
    return {"down_proj"};
  throw Error("IA3: no default feedforward_modules for model_type '" + model_type + "'; set feedforward_modules");
}

}  // namespace axl::peft
