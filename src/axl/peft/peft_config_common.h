#pragma once
// The fields every PEFT config shares (PEFT's PeftConfig base): written the same way by every
// method's to_json and read the same way by its from_json.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace axl::peft {

// The PEFT version whose file format we write.
inline constexpr const char* kPeftVersion = "0.19.1";

// auto_mapping, base_model_name_or_path, inference_mode (save_pretrained always writes true),
// modules_to_save (null when empty), peft_type, peft_version, revision, task_type.
void write_common_peft_fields(nlohmann::json& j, const std::string& peft_type, const std::string& base_model,
                              const std::string& task_type, const std::vector<std::string>& modules_to_save);

// task_type and base_model_name_or_path when they are strings, modules_to_save when not null.
// A wrong type throws nlohmann's exception (each caller turns it into its method's error).
void read_common_peft_fields(const nlohmann::json& j, std::string& base_model, std::string& task_type,
                             std::vector<std::string>& modules_to_save);

}  // namespace axl::peft
