#include "axl/peft/method_registry.h"

#include "axl/core/error.h"
#include "axl/peft/lora.h"
#include "axl/peft/lora_config.h"

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
