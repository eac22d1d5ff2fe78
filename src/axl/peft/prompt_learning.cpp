#include "axl/peft/prompt_learning.h"

#include "axl/core/error.h"
#include "axl/peft/peft_config_common.h"

namespace axl::peft {

namespace {

std::optional<int64_t> optional_int(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<int64_t>();
}

nlohmann::json json_or_null(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

void PromptLearningConfig::read_common(const nlohmann::json& j, const std::string& source) {
  const std::string type = j.value("peft_type", std::string());
  try {
    if (!j.contains("num_virtual_tokens") || j["num_virtual_tokens"].is_null())
      throw Error(source + ": " + type + " needs num_virtual_tokens (e.g. peft: {num_virtual_tokens: 8})");
    num_virtual_tokens = j["num_virtual_tokens"].get<int64_t>();
    token_dim = optional_int(j, "token_dim");
    num_attention_heads = optional_int(j, "num_attention_heads");
    num_layers = optional_int(j, "num_layers");
    num_transformer_submodules = optional_int(j, "num_transformer_submodules").value_or(1);
    if (j.contains("inference_mode") && j["inference_mode"].is_boolean()) inference_mode = j["inference_mode"].get<bool>();
    if (j.contains("task_type") && j["task_type"].is_string()) task_type = j["task_type"].get<std::string>();
    if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
      base_model_name_or_path = j["base_model_name_or_path"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad " + type + " setting (" + e.what() + ")");
  }
  if (num_virtual_tokens <= 0) throw Error(source + ": num_virtual_tokens must be positive");
  for (const auto* v : {&token_dim, &num_attention_heads, &num_layers})
    if (*v && **v <= 0) throw Error(source + ": token_dim, num_attention_heads and num_layers must be positive");
  if (task_type != "CAUSAL_LM")
    throw Error(source + ": task_type \"" + task_type + "\" is not supported for " + type + " (only CAUSAL_LM)");
  if (num_transformer_submodules != 1)
    throw Error(source + ": num_transformer_submodules must be 1 for a decoder-only model");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty())
    throw Error(source + ": modules_to_save is not supported with " + type);
}

void PromptLearningConfig::write_common(nlohmann::json& j) const {
  write_common_peft_fields(j, peft_type(), base_model_name_or_path, task_type, std::vector<std::string>{});
  j["num_attention_heads"] = json_or_null(num_attention_heads);
  j["num_layers"] = json_or_null(num_layers);
  j["num_transformer_submodules"] = num_transformer_submodules;
  j["num_virtual_tokens"] = num_virtual_tokens;
  j["token_dim"] = json_or_null(token_dim);
}

void PromptLearningConfig::fill_from_model(const models::ModelConfig& model) {
  if (!num_layers) num_layers = model.num_layers;
  if (!token_dim) token_dim = model.hidden_size;
  if (!num_attention_heads) num_attention_heads = model.num_heads;
}

void VirtualTokenHooks::activate() {
  if (model_->virtual_tokens && model_->virtual_tokens != tokens_)
    throw Error("another prefix/prompt-tuning adapter is active on this model; deactivate it first");
  model_->virtual_tokens = tokens_;
}

void VirtualTokenHooks::deactivate() {
  if (model_->virtual_tokens == tokens_) model_->virtual_tokens.reset();
}

at::Tensor normal_table(int64_t rows, int64_t cols, at::Generator& gen) {
  return at::empty({rows, cols}, at::kFloat).normal_(0.0, 1.0, gen);
}

}  // namespace axl::peft
