#pragma once
// Prompt tuning (PEFT's PROMPT_TUNING): a trainable table prompt_embeddings [P, hidden] put in
// front of the token embeddings, so the model runs on P + T positions and returns logits for
// all of them (the loss gives the virtual positions label -100). Initialised RANDOM (nn.Embedding's
// N(0, 1)), SAMPLE_VOCAB (the embeddings of P random vocabulary ids) or TEXT (the embeddings of
// prompt_tuning_init_text's ids, repeated or cut to P).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/prompt_learning.h"

namespace axl::peft {

class PromptTuningConfig : public PromptLearningConfig {
 public:
  std::string prompt_tuning_init = "RANDOM";  // RANDOM | SAMPLE_VOCAB | TEXT
  std::optional<std::string> prompt_tuning_init_text;
  std::optional<std::string> tokenizer_name_or_path;
  nlohmann::json tokenizer_kwargs = nullptr;
  // TEXT: the text's ids from the run's tokenizer (training sets them; not saved). Unset: the
  // tokenizer in tokenizer_name_or_path encodes the text, as PEFT does.
  std::optional<std::vector<int64_t>> init_token_ids;

  std::string peft_type() const override { return "PROMPT_TUNING"; }
  nlohmann::json to_json() const override;
  static PromptTuningConfig from_json(const nlohmann::json& j, const std::string& source);
};

// Attaches prompt tuning, initialised as the config says (RANDOM and SAMPLE_VOCAB from `seed`).
Adapter attach_prompt_tuning(models::CausalLM& model, const PromptTuningConfig& config, uint64_t seed = 0);

}  // namespace axl::peft
