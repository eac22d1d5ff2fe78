#include "axl/peft/lycoris_config.h"

#include <cmath>

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

namespace {

// PEFT writes whole alphas as integers (alpha: 8), others as floats.
nlohmann::json alpha_number(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return static_cast<int64_t>(v);
  return v;
}

}  // namespace

int64_t LycorisConfig::rank_for(const std::string& path) const {
  for (const auto& [k, v] : rank_pattern)
    if (pattern_key_matches(k, path)) return v;
  return r;
}

double LycorisConfig::alpha_for(const std::string& path) const {
  for (const auto& [k, v] : alpha_pattern)
    if (pattern_key_matches(k, path)) return v;
  return alpha;
}

void LycorisConfig::read_common(const nlohmann::json& j, const std::string& source, const std::string& method) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  try {
    if (has("r")) r = j["r"].get<int64_t>();
    if (has("alpha")) alpha = j["alpha"].get<double>();
    if (has("rank_dropout")) rank_dropout = j["rank_dropout"].get<double>();
    if (has("module_dropout")) module_dropout = j["module_dropout"].get<double>();
    if (has("use_effective_conv2d")) use_effective_conv2d = j["use_effective_conv2d"].get<bool>();
    read_common_peft_fields(j, base_model_name_or_path, task_type, modules_to_save);
    target_modules = targets_from_config(j, source);
    if (has("rank_pattern"))
      for (const auto& [k, v] : j["rank_pattern"].items()) rank_pattern[k] = v.get<int64_t>();
    if (has("alpha_pattern"))
      for (const auto& [k, v] : j["alpha_pattern"].items()) alpha_pattern[k] = v.get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad " + method + " setting (" + e.what() + ")");
  }
  if (r <= 0) throw Error(source + ": r must be positive (got " + std::to_string(r) + ")");
  for (const auto& [k, v] : rank_pattern)
    if (v <= 0) throw Error(source + ": rank_pattern '" + k + "' must be positive");
  if (rank_dropout < 0 || rank_dropout >= 1) throw Error(source + ": rank_dropout must be in [0, 1)");
  if (module_dropout < 0 || module_dropout > 1) throw Error(source + ": module_dropout must be in [0, 1]");
}

nlohmann::json LycorisConfig::common_json() const {
  nlohmann::json j;  // nlohmann orders keys, as PEFT's sort_keys=True does
  j["alpha"] = alpha_number(alpha);
  nlohmann::json alphas = nlohmann::json::object();
  for (const auto& [k, v] : alpha_pattern) alphas[k] = alpha_number(v);
  j["alpha_pattern"] = alphas;
  write_common_peft_fields(j, peft_type(), base_model_name_or_path, task_type, modules_to_save);
  j["module_dropout"] = module_dropout;
  j["r"] = r;
  j["rank_dropout"] = rank_dropout;
  j["rank_pattern"] = rank_pattern.empty() ? nlohmann::json::object() : nlohmann::json(rank_pattern);
  j["use_effective_conv2d"] = use_effective_conv2d;
  targets_to_config(target_modules, j);
  return j;
}

nlohmann::json LohaConfig::to_json() const {
  nlohmann::json j = common_json();
  j["init_weights"] = init_weights;
  return j;
}

LohaConfig LohaConfig::from_json(const nlohmann::json& j, const std::string& source) {
  LohaConfig c;
  c.read_common(j, source, "LoHa");
  if (j.contains("init_weights") && !j["init_weights"].is_null()) {
    if (!j["init_weights"].is_boolean()) throw Error(source + ": init_weights must be true or false for LoHa");
    c.init_weights = j["init_weights"].get<bool>();
  }
  return c;
}

nlohmann::json LokrConfig::to_json() const {
  nlohmann::json j = common_json();
  j["decompose_both"] = decompose_both;
  j["decompose_factor"] = decompose_factor;
  switch (init) {
    case LokrInit::Default: j["init_weights"] = true; break;
    case LokrInit::Random: j["init_weights"] = false; break;
    case LokrInit::Lycoris: j["init_weights"] = "lycoris"; break;
  }
  j["rank_dropout_scale"] = rank_dropout_scale;
  return j;
}

LokrConfig LokrConfig::from_json(const nlohmann::json& j, const std::string& source) {
  LokrConfig c;
  c.read_common(j, source, "LoKr");
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  try {
    if (has("decompose_both")) c.decompose_both = j["decompose_both"].get<bool>();
    if (has("decompose_factor")) c.decompose_factor = j["decompose_factor"].get<int64_t>();
    if (has("rank_dropout_scale")) c.rank_dropout_scale = j["rank_dropout_scale"].get<bool>();
    if (has("init_weights")) {
      const auto& w = j["init_weights"];
      if (w.is_boolean()) c.init = w.get<bool>() ? LokrInit::Default : LokrInit::Random;
      else if (w.is_string() && w.get<std::string>() == "lycoris") c.init = LokrInit::Lycoris;
      else throw Error(source + ": init_weights must be true, false or \"lycoris\" for LoKr (got " + w.dump() + ")");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad LoKr setting (" + e.what() + ")");
  }
  if (c.decompose_factor == 0 || c.decompose_factor < -1)
    throw Error(source + ": decompose_factor must be -1 or positive");
  // inference_mode: a file save_pretrained wrote (the JSON training builds has neither field).
  const bool legacy = !j.contains("peft_version") && !j.contains("rank_dropout_scale") && j.contains("inference_mode");
  if (legacy) {
    c.alpha = static_cast<double>(c.r);
    c.alpha_pattern.clear();
    for (const auto& [k, v] : c.rank_pattern) c.alpha_pattern[k] = static_cast<double>(v);
    c.rank_dropout_scale = true;
  }
  return c;
}

}  // namespace axl::peft
