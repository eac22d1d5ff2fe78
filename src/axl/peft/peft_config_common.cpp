#include "axl/peft/peft_config_common.h"

namespace axl::peft {

void write_common_peft_fields(nlohmann::json& j, const std::string& peft_type, const std::string& base_model,
                              const std::string& task_type, const std::vector<std::string>& modules_to_save) {
  j["auto_mapping"] = nullptr;
  j["base_model_name_or_path"] = base_model;
  j["inference_mode"] = true;
  j["modules_to_save"] = modules_to_save.empty() ? nlohmann::json(nullptr) : nlohmann::json(modules_to_save);
  j["peft_type"] = peft_type;
  j["peft_version"] = kPeftVersion;
  j["revision"] = nullptr;
  j["task_type"] = task_type;
}

void read_common_peft_fields(const nlohmann::json& j, std::string& base_model, std::string& task_type,
                             std::vector<std::string>& modules_to_save) {
  if (j.contains("task_type") && j["task_type"].is_string()) task_type = j["task_type"].get<std::string>();
  if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
    base_model = j["base_model_name_or_path"].get<std::string>();
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null())
    modules_to_save = j["modules_to_save"].get<std::vector<std::string>>();
}

}  // namespace axl::peft
