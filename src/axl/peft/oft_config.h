#pragma once
// OftConfig: PEFT's OFT settings as adapter_config.json holds them. Two formats exist: PEFT
// 0.19.1's (an input-side rotation, blocks of oft_block_size, parameters packed as the strict
// upper triangles oft_R.weight [r, b(b-1)/2]) and PEFT <= 0.13's (an output-side rotation,
// full blocks oft_r [r, b, b]; its config has no oft_block_size). We write the first; the
// second is read and, being a different function, kept as it was (see docs/adapters.md).
#include <optional>
#include <string>
#include <vector>

#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

class OftConfig : public AdapterConfig {
 public:
  int64_t r = 0;                // number of blocks (0: from oft_block_size)
  int64_t oft_block_size = 32;  // block size (0: from r); exactly one of the two is set
  double module_dropout = 0.0;
  bool coft = false;
  double eps = 6e-5;
  bool block_share = false;
  bool use_cayley_neumann = true;
  int64_t num_cayley_neumann_terms = 5;
  bool fan_in_fan_out = false;
  bool init_weights = true;
  std::optional<TargetModules> target_modules;  // unset: PEFT's defaults for the model type
  std::vector<std::string> modules_to_save;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  // Read from a PEFT <= 0.13 file: the output-side form; saved back as `legacy_json`.
  bool legacy = false;
  nlohmann::json legacy_json;

  std::string peft_type() const override { return "OFT"; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  nlohmann::json to_json() const override;
  static OftConfig from_json(const nlohmann::json& j, const std::string& source);
};

}  // namespace axl::peft
