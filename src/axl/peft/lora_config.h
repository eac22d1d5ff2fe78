#pragma once
// LoraConfig: PEFT's LoRA settings, read from and written to adapter_config.json with the
// field set and defaults PEFT 0.19.1 writes. Settings we do not implement yet (lora_bias,
// bias other than "none", data-driven initialisations, ...) are refused with one clear error.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

enum class LoraInit { Default, Random, Gaussian, Loftq };  // true, false, "gaussian", "loftq"

class LoraConfig : public AdapterConfig {
 public:
  int64_t r = 8;
  double lora_alpha = 8;
  double lora_dropout = 0.0;
  bool use_rslora = false;
  bool use_dora = false;  // DoRA: a learned magnitude per output row (dora_layer.h)
  bool fan_in_fan_out = false;
  LoraInit init = LoraInit::Default;
  // loftq_config (used with init "loftq"; quant/loftq.h): PEFT's LoftQConfig defaults.
  int loftq_bits = 4;
  int loftq_iter = 1;
  // Unset means PEFT's default targets for the model type (filled in when attaching).
  std::optional<TargetModules> target_modules;
  std::vector<std::string> modules_to_save;
  std::map<std::string, int64_t> rank_pattern;
  std::map<std::string, double> alpha_pattern;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;
  std::string bias = "none";

  std::string peft_type() const override { return "LORA"; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  // `source` names the file in errors.
  static LoraConfig from_json(const nlohmann::json& j, const std::string& source);

  // r and alpha for one module after rank_pattern / alpha_pattern, and the resulting scale.
  int64_t rank_for(const std::string& path) const;
  double alpha_for(const std::string& path) const;
  double scaling_for(const std::string& path) const;
};

}  // namespace axl::peft
