#pragma once
// VeraConfig: PEFT's VeRA settings as adapter_config.json holds them (PEFT 0.19.1's field set,
// the same as PEFT 0.12's; VeRA has no exclude_modules).
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

class VeraConfig : public AdapterConfig {
 public:
  int64_t r = 256;
  int64_t projection_prng_key = 0;
  bool save_projection = true;
  double vera_dropout = 0.0;
  double d_initial = 0.1;
  bool fan_in_fan_out = false;
  bool init_weights = true;
  std::optional<TargetModules> target_modules;  // unset: PEFT's defaults for the model type
  std::vector<std::string> modules_to_save;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  std::string peft_type() const override { return "VERA"; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  static VeraConfig from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace axl::peft
