#pragma once
// Prefix tuning (PEFT's PREFIX_TUNING): learned keys and values put in front of every layer's
// attention. The table prompt_embeddings [P, num_layers * 2 * token_dim] holds, for layer l,
// the keys at rows' columns (2l) * token_dim.. and the values at (2l + 1) * token_dim.., each
// token_dim = kv_heads * head_dim split by head (PEFT's view [P, 2L, H, D]). With
// prefix_projection a fresh adapter trains an embedding [P, token_dim] through an MLP
// (Linear -> Tanh -> Linear to the table's width) instead; PEFT saves the table the MLP
// computes, under the same key, so a saved adapter always holds the table.
#include <cstdint>
#include <optional>
#include <string>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/prompt_learning.h"

namespace axl::peft {

class PrefixTuningConfig : public PromptLearningConfig {
 public:
  std::optional<int64_t> encoder_hidden_size;  // unset: token_dim
  bool prefix_projection = false;
  bool init_zero = false;  // init_weights "zero": the adapter starts as zero keys/values

  std::string peft_type() const override { return "PREFIX_TUNING"; }
  nlohmann::json to_json() const override;
  static PrefixTuningConfig from_json(const nlohmann::json& j, const std::string& source);
  // The fields PEFT fills from the model (token_dim and heads of the key/value heads).
  void resolve_for(const models::ModelConfig& model);
};

// Attaches prefix tuning (nn.Embedding's N(0, 1) table, nn.Linear's default for the MLP).
// Throws axl::Error when the config does not fit the model's layers and key/value heads.
Adapter attach_prefix_tuning(models::CausalLM& model, const PrefixTuningConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
