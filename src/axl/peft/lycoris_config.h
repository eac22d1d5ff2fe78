#pragma once
// The LyCORIS family's configs (PEFT's LycorisConfig): LoHa and LoKr share rank, alpha,
// rank/module dropout, rank_pattern / alpha_pattern, init_weights, use_effective_conv2d and
// the target fields; LoKr adds its Kronecker options. Field sets and defaults as PEFT 0.19.1
// writes them; PEFT 0.12's files (no peft_version) are read too.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

class LycorisConfig : public AdapterConfig {
 public:
  int64_t r = 8;
  double alpha = 8;
  double rank_dropout = 0.0;    // training only: drops rows of the delta weight
  double module_dropout = 0.0;  // training only: skips the whole adapter for a forward
  bool use_effective_conv2d = false;  // conv layers only; kept for the file
  std::optional<TargetModules> target_modules;  // unset: PEFT's LoRA defaults for the model type
  std::vector<std::string> modules_to_save;
  std::map<std::string, int64_t> rank_pattern;
  std::map<std::string, double> alpha_pattern;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  // r, alpha and the factor alpha / r for one module after rank_pattern / alpha_pattern.
  int64_t rank_for(const std::string& path) const;
  double alpha_for(const std::string& path) const;
  double scaling_for(const std::string& path) const { return alpha_for(path) / static_cast<double>(rank_for(path)); }

 protected:
  // The shared fields; `method` names the adapter in errors.
  void read_common(const nlohmann::json& j, const std::string& source, const std::string& method);
  nlohmann::json common_json() const;
};

class LohaConfig : public LycorisConfig {
 public:
  bool init_weights = true;  // w2_b zero (a no-op); false: every factor random

  std::string peft_type() const override { return "LOHA"; }
  nlohmann::json to_json() const override;
  static LohaConfig from_json(const nlohmann::json& j, const std::string& source);
};

enum class LokrInit { Default, Random, Lycoris };  // true, false, "lycoris"

class LokrConfig : public LycorisConfig {
 public:
  LokrInit init = LokrInit::Default;  // w1 zero; Lycoris: w2 (or w2_b) zero; Random: none zero
  bool decompose_both = false;        // w1 as w1_a @ w1_b too (when r is small enough)
  int64_t decompose_factor = -1;      // -1: the most balanced factorisation
  bool rank_dropout_scale = false;    // rescale kept rows by 1 / their mean

  std::string peft_type() const override { return "LOKR"; }
  nlohmann::json to_json() const override;
  // A PEFT 0.12 file (saved, so with inference_mode, but neither peft_version nor
  // rank_dropout_scale, which PEFT 0.14 added with the scaling fix) applied no alpha / r factor
  // and always rescaled rank dropout; it is read as the same function in 0.19.1's terms:
  // alpha = r (and alpha_pattern = rank_pattern), rank_dropout_scale true.
  static LokrConfig from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace axl::peft
