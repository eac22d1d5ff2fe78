#pragma once
// IA3Config: PEFT's (IA)^3 settings as adapter_config.json holds them (PEFT 0.19.1's field set;
// 0.12's files have the same fields less exclude_modules and peft_version).
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

// feedforward_modules: a list (PEFT checks a plain string suffix of the module path, without
// the "." boundary target_modules uses) or a regex that must match the whole path.
struct FeedforwardModules {
  std::vector<std::string> names;
  std::optional<std::string> regex;
  bool matches(const std::string& path) const;
  nlohmann::json to_json() const;
};

class Ia3Config : public AdapterConfig {
 public:
  std::optional<TargetModules> target_modules;        // unset: PEFT's defaults for the model type
  std::optional<FeedforwardModules> feedforward_modules;  // unset: likewise
  bool fan_in_fan_out = false;
  bool init_ia3_weights = true;  // ones (a no-op); false: N(0, 1)
  std::vector<std::string> modules_to_save;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  std::string peft_type() const override { return "IA3"; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  static Ia3Config from_json(const nlohmann::json& j, const std::string& source);
};

// PEFT 0.19.1's IA3 defaults per model type (targets, and which of them are feed-forward);
// throws axl::Error naming the fields to set for a type PEFT has none for (e.g. phi3).
std::vector<std::string> default_ia3_targets(const std::string& model_type);
std::vector<std::string> default_ia3_feedforward(const std::string& model_type);

}  // namespace axl::peft
