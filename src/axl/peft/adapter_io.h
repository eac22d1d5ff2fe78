#pragma once
// PEFT's adapter folder: adapter_model.safetensors (keys base_model.model.<module>.<tensor>,
// no adapter name) and adapter_config.json (sorted keys, indent 2). Saving is atomic per file.
#include <string>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

void save_adapter(Adapter& adapter, const std::string& dir);

// Attaches the adapter saved in `dir` to `model` (which must stay where it is while the
// adapter lives). Throws axl::Error naming the file for an unsupported peft_type, a missing
// or misshapen tensor, or a tensor the adapter does not use.
Adapter load_adapter(models::CausalLM& model, const std::string& dir);

}  // namespace axl::peft
