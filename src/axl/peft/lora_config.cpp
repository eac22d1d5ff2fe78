#include "axl/peft/lora_config.h"

#include <cmath>

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

namespace {

nlohmann::json number(double v) {
  // PEFT writes whole alphas as integers (lora_alpha: 16), others as floats.
  if (std::floor(v) == v && std::abs(v) < 1e15) return static_cast<int64_t>(v);
  return v;
}

bool is_null_or(const nlohmann::json& j, const char* key, const nlohmann::json& neutral) {
  return !j.contains(key) || j[key].is_null() || j[key] == neutral;
}

// PEFT's rules: "loftq" needs a non-empty loftq_config; loftq_bits 4 or 8, loftq_iter >= 1.
void read_loftq_config(const nlohmann::json& j, const std::string& source, LoraConfig& c) {
  if (!j.contains("loftq_config") || !j["loftq_config"].is_object() || j["loftq_config"].empty())
    throw Error(source + ": init_lora_weights \"loftq\" needs loftq_config, e.g. {\"loftq_bits\": 4, \"loftq_iter\": 1}");
  const auto& q = j["loftq_config"];
  c.loftq_bits = q.value("loftq_bits", 4);
  c.loftq_iter = q.value("loftq_iter", 1);
  if (c.loftq_bits != 4 && c.loftq_bits != 8)
    throw Error(source + ": loftq_config.loftq_bits must be 4 or 8 (got " + std::to_string(c.loftq_bits) + ")");
  if (c.loftq_iter < 1)
    throw Error(source + ": loftq_config.loftq_iter must be at least 1 (got " + std::to_string(c.loftq_iter) + ")");
}

}  // namespace

nlohmann::json LoraConfig::to_json() const {
  nlohmann::json j;  // nlohmann orders keys, as PEFT's sort_keys=True does
  j["alora_invocation_tokens"] = nullptr;
  nlohmann::json alphas = nlohmann::json::object();
  for (const auto& [k, v] : alpha_pattern) alphas[k] = number(v);
  j["alpha_pattern"] = alphas;
  j["arrow_config"] = nullptr;
  write_common_peft_fields(j, "LORA", base_model_name_or_path, task_type, modules_to_save);
  j["bias"] = bias;
  j["corda_config"] = nullptr;
  j["ensure_weight_tying"] = false;
  j["eva_config"] = nullptr;
  j["fan_in_fan_out"] = fan_in_fan_out;
  switch (init) {
    case LoraInit::Default: j["init_lora_weights"] = true; break;
    case LoraInit::Random: j["init_lora_weights"] = false; break;
    case LoraInit::Gaussian: j["init_lora_weights"] = "gaussian"; break;
    case LoraInit::Loftq: j["init_lora_weights"] = "loftq"; break;
  }
  j["layer_replication"] = nullptr;
  targets_to_config(target_modules, j);  // target_modules, exclude_modules, layers_*
  j["loftq_config"] = init == LoraInit::Loftq
                          ? nlohmann::json{{"loftq_bits", loftq_bits}, {"loftq_iter", loftq_iter}}
                          : nlohmann::json::object();
  j["lora_alpha"] = number(lora_alpha);
  j["lora_bias"] = false;
  j["lora_dropout"] = lora_dropout;
  j["lora_ga_config"] = nullptr;
  j["megatron_config"] = nullptr;
  j["megatron_core"] = "megatron.core";
  j["qalora_group_size"] = 16;
  j["r"] = r;
  j["rank_pattern"] = rank_pattern.empty() ? nlohmann::json::object() : nlohmann::json(rank_pattern);
  j["target_parameters"] = nullptr;
  j["trainable_token_indices"] = nullptr;
  j["use_bdlora"] = nullptr;
  j["use_dora"] = use_dora;
  j["use_qalora"] = false;
  j["use_rslora"] = use_rslora;
  return j;
}

LoraConfig LoraConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  LoraConfig c;
  auto unsupported = [&](const std::string& what) {
    throw Error(source + ": " + what + " is not supported yet by axolotl-cpp's LoRA");
  };
  try {
    if (j.contains("r")) c.r = j["r"].get<int64_t>();
    if (j.contains("lora_alpha")) c.lora_alpha = j["lora_alpha"].get<double>();
    if (j.contains("lora_dropout")) c.lora_dropout = j["lora_dropout"].get<double>();
    if (j.contains("use_rslora")) c.use_rslora = j["use_rslora"].get<bool>();
    if (j.contains("use_dora") && !j["use_dora"].is_null()) c.use_dora = j["use_dora"].get<bool>();
    if (j.contains("fan_in_fan_out")) c.fan_in_fan_out = j["fan_in_fan_out"].get<bool>();
    read_common_peft_fields(j, c.base_model_name_or_path, c.task_type, c.modules_to_save);
    if (j.contains("bias") && j["bias"].is_string()) c.bias = j["bias"].get<std::string>();
    if (j.contains("init_lora_weights")) {
      const auto& w = j["init_lora_weights"];
      if (w.is_boolean()) {
        c.init = w.get<bool>() ? LoraInit::Default : LoraInit::Random;
      } else if (w.is_string() && w.get<std::string>() == "gaussian") {
        c.init = LoraInit::Gaussian;
      } else if (w.is_string() && w.get<std::string>() == "loftq") {
        c.init = LoraInit::Loftq;
        read_loftq_config(j, source, c);
      } else {
        unsupported("init_lora_weights " + w.dump());
      }
    }
    c.target_modules = targets_from_config(j, source);
    if (j.contains("rank_pattern") && j["rank_pattern"].is_object())
      for (const auto& [k, v] : j["rank_pattern"].items()) c.rank_pattern[k] = v.get<int64_t>();
    if (j.contains("alpha_pattern") && j["alpha_pattern"].is_object())
      for (const auto& [k, v] : j["alpha_pattern"].items()) c.alpha_pattern[k] = v.get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad LoRA setting (" + e.what() + ")");
  }
  if (c.r <= 0) throw Error(source + ": r must be positive (got " + std::to_string(c.r) + ")");
  if (c.lora_dropout < 0 || c.lora_dropout >= 1) throw Error(source + ": lora_dropout must be in [0, 1)");
  if (c.bias != "none") unsupported("bias \"" + c.bias + "\"");
  if (!is_null_or(j, "lora_bias", false)) unsupported("lora_bias");
  if (!is_null_or(j, "use_qalora", false)) unsupported("use_qalora");
  if (!is_null_or(j, "layer_replication", nullptr)) unsupported("layer_replication");
  if (!is_null_or(j, "target_parameters", nullptr)) unsupported("target_parameters");
  if (!is_null_or(j, "trainable_token_indices", nullptr)) unsupported("trainable_token_indices");
  if (!is_null_or(j, "alora_invocation_tokens", nullptr)) unsupported("alora_invocation_tokens");
  return c;
}

int64_t LoraConfig::rank_for(const std::string& path) const {
  for (const auto& [k, v] : rank_pattern)
    if (pattern_key_matches(k, path)) return v;
  return r;
}

double LoraConfig::alpha_for(const std::string& path) const {
  for (const auto& [k, v] : alpha_pattern)
    if (pattern_key_matches(k, path)) return v;
  return lora_alpha;
}

double LoraConfig::scaling_for(const std::string& path) const {
  const double rank = static_cast<double>(rank_for(path));
  return use_rslora ? alpha_for(path) / std::sqrt(rank) : alpha_for(path) / rank;
}

}  // namespace axl::peft
