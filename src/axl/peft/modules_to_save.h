#pragma once
// PEFT's modules_to_save, for every method that targets layers: each named module (a linear
// slot such as lm_head, or the input embeddings) is replaced by a trainable full copy, saved
// under the module's own key. The adapter's layers must be attached first (a module cannot be
// both a target and a module to save).
#include <string>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

// `method` names the adapter in errors. Throws axl::Error when a name matches neither a linear
// module nor the input embeddings, or matches a module the adapter already targets.
void attach_modules_to_save(models::CausalLM& model, Adapter& adapter, const std::vector<std::string>& names,
                            const std::string& method);

}  // namespace axl::peft
