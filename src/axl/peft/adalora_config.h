#pragma once
// AdaLoraConfig: PEFT's AdaLoRA settings (an AdaLoraConfig is a LoraConfig plus the rank
// budget schedule), read from and written to adapter_config.json with PEFT 0.19.1's fields
// and defaults. rank_pattern is AdaLoRA's own form: per module, which of the init_r
// singular triplets survived the rank allocator.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/lora_config.h"

namespace axl::peft {

class AdaLoraConfig : public AdapterConfig {
 public:
  // The fields AdaLoRA shares with LoRA: targets, lora_alpha, lora_dropout, init_lora_weights,
  // modules_to_save, fan_in_fan_out, task_type, base model. Its r is unused (PEFT writes 8).
  LoraConfig lora;
  int64_t target_r = 8;
  int64_t init_r = 12;
  int64_t tinit = 0;
  int64_t tfinal = 0;
  int64_t deltaT = 1;
  double beta1 = 0.85;
  double beta2 = 0.85;
  double orth_reg_weight = 0.5;
  std::optional<int64_t> total_step;  // required by PEFT; training fills it in when unset
  // Module path (model.layers.0.self_attn.q_proj) -> kept triplets (init_r flags); saved as
  // "<path>.lora_E": [true, false, ...]. Unset until the allocator first masks.
  std::optional<std::map<std::string, std::vector<bool>>> rank_pattern;

  std::string peft_type() const override { return "ADALORA"; }
  void set_base_model(const std::string& name) override { lora.base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  static AdaLoraConfig from_json(const nlohmann::json& j, const std::string& source);

  // PEFT's factor lora_alpha (or init_r when alpha is 0), divided by ranknum + 1e-5 in the layer.
  double scaling() const { return lora.lora_alpha > 0 ? lora.lora_alpha : static_cast<double>(init_r); }
  // PEFT's check that the schedule has a budgeting phase (needs total_step); `source` names the config.
  void check_schedule(const std::string& source) const;
};

}  // namespace axl::peft
