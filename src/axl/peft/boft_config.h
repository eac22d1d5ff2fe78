#pragma once
// BoftConfig: PEFT's BOFT settings as adapter_config.json holds them (PEFT 0.19.1's field set;
// PEFT 0.12 wrote the same fields).
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

class BoftConfig : public AdapterConfig {
 public:
  int64_t boft_block_size = 4;  // exactly one of block size and block count is non-zero
  int64_t boft_block_num = 0;
  // Kept as written; the layers are built with factor 1, as PEFT builds them whenever its
  // CUDA butterfly extension is unavailable (always on the CPU). See docs/adapters.md.
  int64_t boft_n_butterfly_factor = 1;
  double boft_dropout = 0.0;
  bool fan_in_fan_out = false;
  bool init_weights = true;
  std::optional<TargetModules> target_modules;  // unset: PEFT's defaults for the model type
  std::vector<std::string> modules_to_save;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  std::string peft_type() const override { return "BOFT"; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  static BoftConfig from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace axl::peft
