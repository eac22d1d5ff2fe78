#pragma once
// Writing a model whose adapters are merged as a plain Hugging Face model folder:
// config.json, model.safetensors (Conv1D weights back in GPT-2's [in, out] layout) and the
// tokenizer/generation files of the base folder, so transformers loads it alone.
#include <string>

#include "axl/models/causal_lm.h"

namespace axl::peft {

// `base_dir` is the folder the model was loaded from (config and tokenizer files come from
// there). Throws axl::Error when a slot still holds an unmerged adapter.
void save_merged_model(models::CausalLM& model, const std::string& base_dir, const std::string& out_dir);

}  // namespace axl::peft
