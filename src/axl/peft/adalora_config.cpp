#include "axl/peft/adalora_config.h"

#include "axl/core/error.h"

namespace axl::peft {

namespace {

const std::string kPatternSuffix = ".lora_E";

// PEFT keys rank_pattern by the lora_E parameter ("<module>.lora_E", or with the adapter
// name while training); the module path is what precedes it.
std::string module_of_pattern_key(const std::string& key, const std::string& source) {
  std::string k = key;
  const std::string with_name = kPatternSuffix + ".default";
  if (k.size() > with_name.size() && k.compare(k.size() - with_name.size(), with_name.size(), with_name) == 0)
    k.resize(k.size() - std::string(".default").size());
  if (k.size() <= kPatternSuffix.size() ||
      k.compare(k.size() - kPatternSuffix.size(), kPatternSuffix.size(), kPatternSuffix) != 0)
    throw Error(source + ": rank_pattern key '" + key + "' does not name a lora_E (expected <module>.lora_E)");
  return k.substr(0, k.size() - kPatternSuffix.size());
}

}  // namespace

nlohmann::json AdaLoraConfig::to_json() const {
  nlohmann::json j = lora.to_json();
  j["peft_type"] = "ADALORA";
  j["use_dora"] = false;
  j["rank_pattern"] = nullptr;
  if (rank_pattern) {
    nlohmann::json rp = nlohmann::json::object();
    for (const auto& [module, kept] : *rank_pattern) rp[module + kPatternSuffix] = kept;
    j["rank_pattern"] = rp;
  }
  j["target_r"] = target_r;
  j["init_r"] = init_r;
  j["tinit"] = tinit;
  j["tfinal"] = tfinal;
  j["deltaT"] = deltaT;
  j["beta1"] = beta1;
  j["beta2"] = beta2;
  j["orth_reg_weight"] = orth_reg_weight;
  j["total_step"] = total_step ? nlohmann::json(*total_step) : nlohmann::json(nullptr);
  return j;
}

AdaLoraConfig AdaLoraConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  if (j.contains("use_dora") && j["use_dora"].is_boolean() && j["use_dora"].get<bool>())
    throw Error(source + ": AdaLoRA does not support DoRA (use_dora must be false), as in PEFT");
  if (j.contains("loftq_config") && j["loftq_config"].is_object() && !j["loftq_config"].empty())
    throw Error(source + ": AdaLoRA does not support LoftQ (loftq_config), as in PEFT");
  AdaLoraConfig c;
  nlohmann::json shared = j;
  shared.erase("rank_pattern");  // AdaLoRA's form (flags), not LoRA's (ranks)
  shared.erase("use_dora");
  c.lora = LoraConfig::from_json(shared, source);
  try {
    auto get_int = [&](const char* key, int64_t& v) {
      if (j.contains(key) && !j[key].is_null()) v = j[key].get<int64_t>();
    };
    auto get_double = [&](const char* key, double& v) {
      if (j.contains(key) && !j[key].is_null()) v = j[key].get<double>();
    };
    get_int("target_r", c.target_r);
    get_int("init_r", c.init_r);
    get_int("tinit", c.tinit);
    get_int("tfinal", c.tfinal);
    get_int("deltaT", c.deltaT);
    get_double("beta1", c.beta1);
    get_double("beta2", c.beta2);
    get_double("orth_reg_weight", c.orth_reg_weight);
    if (j.contains("total_step") && !j["total_step"].is_null()) c.total_step = j["total_step"].get<int64_t>();
    if (j.contains("rank_pattern") && !j["rank_pattern"].is_null()) {
      std::map<std::string, std::vector<bool>> rp;
      for (const auto& [key, flags] : j["rank_pattern"].items()) {
        std::vector<bool> kept;
        for (const auto& f : flags) kept.push_back(f.is_boolean() ? f.get<bool>() : f.get<int64_t>() != 0);
        rp[module_of_pattern_key(key, source)] = kept;
      }
      c.rank_pattern = rp;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad AdaLoRA setting (" + e.what() + ")");
  }
  if (c.init_r < 0) throw Error(source + ": init_r must be 0 or more (got " + std::to_string(c.init_r) + ")");
  if (c.target_r < 0) throw Error(source + ": target_r must be 0 or more");
  if (c.deltaT <= 0) throw Error(source + ": deltaT must be positive");
  if (!(c.beta1 > 0 && c.beta1 < 1) || !(c.beta2 > 0 && c.beta2 < 1))
    throw Error(source + ": beta1 and beta2 must be in (0, 1)");
  if (c.total_step) c.check_schedule(source);
  if (c.rank_pattern)
    for (const auto& [module, kept] : *c.rank_pattern)
      if (static_cast<int64_t>(kept.size()) != c.init_r)
        throw Error(source + ": rank_pattern for " + module + " has " + std::to_string(kept.size()) +
                    " entries, init_r is " + std::to_string(c.init_r));
  return c;
}

void AdaLoraConfig::check_schedule(const std::string& source) const {
  if (!total_step || *total_step <= 0)
    throw Error(source + ": AdaLoRA needs total_step > 0 (the run's number of optimizer steps)");
  if (tinit >= *total_step - tfinal)
    throw Error(source + ": AdaLoRA's schedule leaves no budgeting phase (tinit " + std::to_string(tinit) +
                " >= total_step " + std::to_string(*total_step) + " - tfinal " + std::to_string(tfinal) +
                "); decrease tinit/tfinal or train longer");
}

}  // namespace axl::peft
