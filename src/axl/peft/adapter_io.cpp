#include "axl/peft/adapter_io.h"

#include <algorithm>
#include <filesystem>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/models/resize_embeddings.h"
#include "axl/peft/lora.h"
#include "axl/peft/method_registry.h"

namespace axl::peft {

void save_adapter(Adapter& adapter, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, t] : adapter.state_dict()) tensors[name] = t.detach();
  if (adapter.hooks) adapter.hooks->to_saved_form(tensors);
  save_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  // PEFT writes json.dumps(indent=2, sort_keys=True) with no final newline.
  write_file_atomic(dir + "/adapter_config.json", adapter.config->to_json().dump(2));
}

namespace {

// An adapter trained with added tokens saves embeddings/head with more rows than the base
// has: grow the base first, as a user calls resize_token_embeddings(len(tokenizer)) before
// PeftModel.from_pretrained. The saved copies then replace the new rows.
void grow_vocabulary_for(models::CausalLM& model, const std::map<std::string, at::Tensor>& stored) {
  const std::string embed_key = std::string(kSavedPrefix) + embedding_module_path(model) + ".weight";
  const std::string head_key = std::string(kSavedPrefix) + model.lm_head.name + ".weight";
  int64_t rows = 0;
  for (const auto& key : {embed_key, head_key}) {
    auto it = stored.find(key);
    if (it != stored.end() && it->second.dim() == 2) rows = std::max(rows, it->second.size(0));
  }
  if (rows > model.embed.size(0)) models::resize_token_embeddings(model, rows);
}

}  // namespace

Adapter load_adapter(models::CausalLM& model, const std::string& dir) {
  const std::string config_path = dir + "/adapter_config.json";
  if (!std::filesystem::exists(config_path))
    throw Error(dir + ": no adapter_config.json (not a PEFT adapter folder)");
  nlohmann::json j = read_json_file(config_path);
  if (!j.is_object() || !j.contains("peft_type") || !j["peft_type"].is_string())
    throw Error(config_path + ": missing \"peft_type\"");
  const AdapterMethod& method = method_for_peft_type(j["peft_type"].get<std::string>(), config_path);
  const std::string weights = dir + "/adapter_model.safetensors";
  if (!std::filesystem::exists(weights))
    throw Error(dir + ": no adapter_model.safetensors" +
                (std::filesystem::exists(dir + "/adapter_model.bin")
                     ? std::string(" (adapter_model.bin, PyTorch's pickle format, is not read; re-save with safe_serialization)")
                     : std::string()));
  auto stored = load_safetensors(weights);
  grow_vocabulary_for(model, stored);
  std::shared_ptr<AdapterConfig> config = method.config_from_json(j, config_path);
  Adapter adapter = method.attach(model, *config, 0);
  if (method.upgrade_stored) method.upgrade_stored(stored, *adapter.config);
  at::NoGradGuard no_grad;
  auto expected = adapter.state_dict();
  for (auto& [key, t] : expected) {
    auto it = stored.find(key);
    if (it == stored.end()) throw Error(weights + ": missing tensor '" + key + "'");
    if (it->second.sizes() != t.sizes())
      throw Error(weights + ": tensor '" + key + "' has shape " + shape_string(it->second.sizes()) +
                  ", the adapter config and model imply " + shape_string(t.sizes()));
    t.copy_(it->second);
  }
  for (const auto& [key, t] : stored)
    if (!expected.count(key))
      throw Error(weights + ": tensor '" + key + "' belongs to no module the adapter config targets");
  return adapter;
}

}  // namespace axl::peft
