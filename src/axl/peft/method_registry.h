#pragma once
// Every PEFT method we implement, by PEFT's peft_type string: how to read its adapter_config.json,
// how to attach it to a model, and (for formats that changed since an older PEFT) how to bring
// saved tensors to the current layout. load_adapter, training and the CLI go through this table
// and never name a method themselves.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

struct AdapterMethod {
  std::string peft_type;  // PEFT's string, e.g. "LORA", "LOHA"
  // Reads adapter_config.json (or the JSON training builds from YAML); `source` names it in
  // errors. Fields and defaults as PEFT's; the saved form of an older PEFT is recognised here.
  std::function<std::shared_ptr<AdapterConfig>(const nlohmann::json& j, const std::string& source)> config_from_json;
  // Attaches a freshly initialised adapter (PEFT's initialisation, seeded by `seed`); only the
  // trainable tensors have requires_grad. Throws axl::Error when nothing matches.
  std::function<Adapter(models::CausalLM& model, const AdapterConfig& config, uint64_t seed)> attach;
  // Optional: rewrites tensors read from adapter_model.safetensors into what `attach` made
  // (renames, reshapes from an older PEFT's format), before they are copied in.
  std::function<void(std::map<std::string, at::Tensor>& stored, const AdapterConfig& config)> upgrade_stored;
};

// Throws axl::Error naming `source` and the supported types when `peft_type` is unknown.
const AdapterMethod& method_for_peft_type(const std::string& peft_type, const std::string& source);
std::vector<std::string> supported_peft_types();

// Reads a config JSON through its method (peft_type decides) and attaches it.
Adapter attach_adapter(models::CausalLM& model, const nlohmann::json& config, const std::string& source,
                       uint64_t seed = 0);

}  // namespace axl::peft
