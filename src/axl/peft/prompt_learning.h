#pragma once
// What PEFT's prompt-learning methods (prefix tuning, prompt tuning) share: the config fields
// of PEFT's PromptLearningConfig, filled from the model config as PEFT fills them, and the
// hooks that install the method's virtual tokens in the model (CausalLM::virtual_tokens)
// while the adapter is active. Neither method touches a linear slot, and neither can merge.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

class PromptLearningConfig : public AdapterConfig {
 public:
  int64_t num_virtual_tokens = 0;  // required
  // Unset: taken from the model when attaching (hidden size, heads, layers), as PEFT does.
  std::optional<int64_t> token_dim, num_attention_heads, num_layers;
  int64_t num_transformer_submodules = 1;  // 1 for decoder-only models
  // PEFT builds the trainable form when false (a fresh adapter), the saved form when true
  // (loading); saved configs always say true.
  bool inference_mode = false;
  std::string task_type = "CAUSAL_LM";
  std::string base_model_name_or_path;

  bool can_merge() const override { return false; }
  void set_base_model(const std::string& name) override { base_model_name_or_path = name; }
  // Fills the unset fields from the model as PEFT's _prepare_prompt_learning_config does.
  void fill_from_model(const models::ModelConfig& model);

 protected:
  // Reads / writes the shared fields (`source` names the file in errors).
  void read_common(const nlohmann::json& j, const std::string& source);
  void write_common(nlohmann::json& j) const;
};

// Installs `tokens` in the model on activate and takes them out on deactivate (and detach).
class VirtualTokenHooks : public AdapterHooks {
 public:
  VirtualTokenHooks(models::CausalLM* model, std::shared_ptr<models::VirtualTokens> tokens)
      : model_(model), tokens_(std::move(tokens)) {}
  void activate() override;
  void deactivate() override;

 private:
  models::CausalLM* model_;
  std::shared_ptr<models::VirtualTokens> tokens_;
};

// A float32 [rows, cols] table with nn.Embedding's default initialisation N(0, 1).
at::Tensor normal_table(int64_t rows, int64_t cols, at::Generator& gen);

}  // namespace axl::peft
