#include "axl/peft/oft_config.h"

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

nlohmann::json OftConfig::to_json() const {
  if (legacy) {
    nlohmann::json j = legacy_json;
    j["base_model_name_or_path"] = base_model_name_or_path;
    return j;
  }
  nlohmann::json j;
  write_common_peft_fields(j, "OFT", base_model_name_or_path, task_type, modules_to_save);
  j["bias"] = "none";
  j["block_share"] = block_share;
  j["coft"] = coft;
  j["eps"] = eps;
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["init_weights"] = init_weights;
  j["module_dropout"] = module_dropout;
  j["num_cayley_neumann_terms"] = num_cayley_neumann_terms;
  j["oft_block_size"] = oft_block_size;
  j["r"] = r;
  targets_to_config(target_modules, j);
  j["use_cayley_neumann"] = use_cayley_neumann;
  return j;
}

OftConfig OftConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  OftConfig c;
  // PEFT 0.14 added oft_block_size and changed the method; every saved config carries
  // inference_mode, which a config built from YAML does not.
  c.legacy = !j.contains("oft_block_size") && !j.contains("peft_version") && j.contains("inference_mode");
  if (c.legacy) {
    c.legacy_json = j;
    c.r = 8;  // PEFT 0.12's default
    c.oft_block_size = 0;
    c.use_cayley_neumann = false;
  }
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  try {
    if (has("r")) c.r = j["r"].get<int64_t>();
    if (has("oft_block_size")) c.oft_block_size = j["oft_block_size"].get<int64_t>();
    if (has("module_dropout")) c.module_dropout = j["module_dropout"].get<double>();
    if (has("coft")) c.coft = j["coft"].get<bool>();
    if (has("eps")) c.eps = j["eps"].get<double>();
    if (has("block_share")) c.block_share = j["block_share"].get<bool>();
    if (has("use_cayley_neumann") && !c.legacy) c.use_cayley_neumann = j["use_cayley_neumann"].get<bool>();
    if (has("num_cayley_neumann_terms")) c.num_cayley_neumann_terms = j["num_cayley_neumann_terms"].get<int64_t>();
    if (has("fan_in_fan_out")) c.fan_in_fan_out = j["fan_in_fan_out"].get<bool>();
    if (has("init_weights")) c.init_weights = j["init_weights"].get<bool>();
    read_common_peft_fields(j, c.base_model_name_or_path, c.task_type, c.modules_to_save);
    c.target_modules = targets_from_config(j, source);
    if (has("bias") && j["bias"].get<std::string>() != "none")
      throw Error(source + ": OFT bias \"" + j["bias"].get<std::string>() + "\" is not supported (only \"none\")");
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad OFT setting (" + e.what() + ")");
  }
  if (c.r < 0 || c.oft_block_size < 0) throw Error(source + ": OFT r and oft_block_size must not be negative");
  if (!c.legacy && (c.r != 0) == (c.oft_block_size != 0))
    throw Error(source + ": OFT takes exactly one of r (" + std::to_string(c.r) + ") and oft_block_size (" +
                std::to_string(c.oft_block_size) + "), as PEFT does: r x oft_block_size = in_features; set the other to 0");
  if (c.legacy && c.r <= 0) throw Error(source + ": OFT (PEFT <= 0.13 format) needs r > 0");
  if (c.module_dropout < 0 || c.module_dropout >= 1) throw Error(source + ": OFT module_dropout must be in [0, 1)");
  if (c.num_cayley_neumann_terms < 1) throw Error(source + ": OFT num_cayley_neumann_terms must be at least 1");
  return c;
}

}  // namespace axl::peft
