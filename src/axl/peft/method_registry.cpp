#include "axl/peft/method_registry.h"

#include "axl/core/error.h"
#include "axl/peft/adalora.h"
#include "axl/peft/boft.h"
#include "axl/peft/ia3.h"
#include "axl/peft/loha.h"
#include "axl/peft/lokr.h"
#include "axl/peft/lora.h"
#include "axl/peft/lora_config.h"
#include "axl/peft/oft.h"
#include "axl/peft/prefix_tuning.h"
#include "axl/peft/prompt_tuning.h"
#include "axl/peft/vera.h"

namespace axl::peft {

namespace {

// One entry per method; each method's file provides its config reader and attach function.
const std::vector<AdapterMethod>& methods() {
  static const std::vector<AdapterMethod> table = {
      {"LORA",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<LoraConfig>(LoraConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_lora(model, dynamic_cast<const LoraConfig&>(c), seed);
       },
       nullptr},
      {"IA3",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<Ia3Config>(Ia3Config::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_ia3(model, dynamic_cast<const Ia3Config&>(c), seed);
       },
       nullptr},
      {"LOHA",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<LohaConfig>(LohaConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_loha(model, dynamic_cast<const LohaConfig&>(c), seed);
       },
       nullptr},
      {"LOKR",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<LokrConfig>(LokrConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_lokr(model, dynamic_cast<const LokrConfig&>(c), seed);
       },
       nullptr},
      {"PREFIX_TUNING",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<PrefixTuningConfig>(PrefixTuningConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_prefix_tuning(model, dynamic_cast<const PrefixTuningConfig&>(c), seed);
       },
       nullptr},
      {"PROMPT_TUNING",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<PromptTuningConfig>(PromptTuningConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_prompt_tuning(model, dynamic_cast<const PromptTuningConfig&>(c), seed);
       },
       nullptr},
      {"ADALORA",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<AdaLoraConfig>(AdaLoraConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_adalora(model, dynamic_cast<const AdaLoraConfig&>(c), seed);
       },
       nullptr},
      {"OFT",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<OftConfig>(OftConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_oft(model, dynamic_cast<const OftConfig&>(c), seed);
       },
       nullptr},
      {"BOFT",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<BoftConfig>(BoftConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_boft(model, dynamic_cast<const BoftConfig&>(c), seed);
       },
       [](std::map<std::string, at::Tensor>& stored, const AdapterConfig&) { upgrade_stored_boft(stored); }},
      {"VERA",
       [](const nlohmann::json& j, const std::string& source) {
         return std::make_shared<VeraConfig>(VeraConfig::from_json(j, source));
       },
       [](models::CausalLM& model, const AdapterConfig& c, uint64_t seed) {
         return attach_vera(model, dynamic_cast<const VeraConfig&>(c), seed);
       },
       nullptr},
      // (more methods register here)
  };
  return table;
}

}  // namespace

std::vector<std::string> supported_peft_types() {
  std::vector<std::string> out;
  for (const auto& m : methods()) out.push_back(m.peft_type);
  return out;
}

const AdapterMethod& method_for_peft_type(const std::string& peft_type, const std::string& source) {
  for (const auto& m : methods())
    if (m.peft_type == peft_type) return m;
  std::string list;
  for (const auto& t : supported_peft_types()) list += (list.empty() ? "" : ", ") + t;
  throw Error(source + ": peft_type \"" + peft_type + "\" is not supported (supported: " + list + ")");
}

Adapter attach_adapter(models::CausalLM& model, const nlohmann::json& config, const std::string& source,
                       uint64_t seed) {
  if (!config.is_object() || !config.contains("peft_type") || !config["peft_type"].is_string())
    throw Error(source + ": missing \"peft_type\"");
  const AdapterMethod& method = method_for_peft_type(config["peft_type"].get<std::string>(), source);
  return method.attach(model, *method.config_from_json(config, source), seed);
}

}  // namespace axl::peft
