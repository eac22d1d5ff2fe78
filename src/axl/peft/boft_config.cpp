#include "axl/peft/boft_config.h"

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

nlohmann::json BoftConfig::to_json() const {
  nlohmann::json j;
  write_common_peft_fields(j, "BOFT", base_model_name_or_path, task_type, modules_to_save);
  j["bias"] = "none";
  j["boft_block_num"] = boft_block_num;
  j["boft_block_size"] = boft_block_size;
  j["boft_dropout"] = boft_dropout;
  j["boft_n_butterfly_factor"] = boft_n_butterfly_factor;
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["init_weights"] = init_weights;
  targets_to_config(target_modules, j);
  return j;
}

BoftConfig BoftConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  BoftConfig c;
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  try {
    if (has("boft_block_size")) c.boft_block_size = j["boft_block_size"].get<int64_t>();
    if (has("boft_block_num")) c.boft_block_num = j["boft_block_num"].get<int64_t>();
    if (has("boft_n_butterfly_factor")) c.boft_n_butterfly_factor = j["boft_n_butterfly_factor"].get<int64_t>();
    if (has("boft_dropout")) c.boft_dropout = j["boft_dropout"].get<double>();
    if (has("fan_in_fan_out")) c.fan_in_fan_out = j["fan_in_fan_out"].get<bool>();
    if (has("init_weights")) c.init_weights = j["init_weights"].get<bool>();
    read_common_peft_fields(j, c.base_model_name_or_path, c.task_type, c.modules_to_save);
    c.target_modules = targets_from_config(j, source);
    if (has("bias") && j["bias"].get<std::string>() != "none")
      throw Error(source + ": BOFT bias \"" + j["bias"].get<std::string>() + "\" is not supported (only \"none\")");
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad BOFT setting (" + e.what() + ")");
  }
  if (c.boft_block_size < 0 || c.boft_block_num < 0)
    throw Error(source + ": BOFT boft_block_size and boft_block_num must not be negative");
  if ((c.boft_block_size != 0) == (c.boft_block_num != 0))
    throw Error(source + ": BOFT takes exactly one of boft_block_size (" + std::to_string(c.boft_block_size) +
                ") and boft_block_num (" + std::to_string(c.boft_block_num) +
                "), as PEFT does: size x num = in_features; set the other to 0");
  if (c.boft_n_butterfly_factor < 1) throw Error(source + ": BOFT boft_n_butterfly_factor must be at least 1");
  if (c.boft_dropout < 0 || c.boft_dropout >= 1) throw Error(source + ": BOFT boft_dropout must be in [0, 1)");
  return c;
}

}  // namespace axl::peft
