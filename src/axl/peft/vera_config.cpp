#include "axl/peft/vera_config.h"

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

nlohmann::json VeraConfig::to_json() const {
  nlohmann::json j;
  write_common_peft_fields(j, "VERA", base_model_name_or_path, task_type, modules_to_save);
  j["bias"] = "none";
  j["d_initial"] = d_initial;
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["init_weights"] = init_weights;
  j["projection_prng_key"] = projection_prng_key;
  j["r"] = r;
  j["save_projection"] = save_projection;
  targets_to_config(target_modules, j);
  j.erase("exclude_modules");  // not a VeRA field
  j["vera_dropout"] = vera_dropout;
  return j;
}

VeraConfig VeraConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  VeraConfig c;
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  try {
    if (has("r")) c.r = j["r"].get<int64_t>();
    if (has("projection_prng_key")) c.projection_prng_key = j["projection_prng_key"].get<int64_t>();
    if (has("save_projection")) c.save_projection = j["save_projection"].get<bool>();
    if (has("vera_dropout")) c.vera_dropout = j["vera_dropout"].get<double>();
    if (has("d_initial")) c.d_initial = j["d_initial"].get<double>();
    if (has("fan_in_fan_out")) c.fan_in_fan_out = j["fan_in_fan_out"].get<bool>();
    if (has("init_weights")) c.init_weights = j["init_weights"].get<bool>();
    read_common_peft_fields(j, c.base_model_name_or_path, c.task_type, c.modules_to_save);
    if (has("exclude_modules")) throw Error(source + ": VeRA has no exclude_modules setting in PEFT");
    c.target_modules = targets_from_config(j, source);
    if (has("bias") && j["bias"].get<std::string>() != "none")
      throw Error(source + ": VeRA bias \"" + j["bias"].get<std::string>() + "\" is not supported (only \"none\")");
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad VeRA setting (" + e.what() + ")");
  }
  if (c.r <= 0) throw Error(source + ": VeRA r must be positive (got " + std::to_string(c.r) + ")");
  if (c.vera_dropout < 0 || c.vera_dropout >= 1) throw Error(source + ": VeRA vera_dropout must be in [0, 1)");
  return c;
}

}  // namespace axl::peft
