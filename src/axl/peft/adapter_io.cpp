#include "axl/peft/adapter_io.h"

#include <filesystem>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/peft/lora.h"

namespace axl::peft {

void save_adapter(Adapter& adapter, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, t] : adapter.state_dict()) tensors[name] = t.detach();
  save_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  // PEFT writes json.dumps(indent=2, sort_keys=True) with no final newline.
  write_file_atomic(dir + "/adapter_config.json", adapter.config->to_json().dump(2));
}

Adapter load_adapter(models::CausalLM& model, const std::string& dir) {
  const std::string config_path = dir + "/adapter_config.json";
  if (!std::filesystem::exists(config_path))
    throw Error(dir + ": no adapter_config.json (not a PEFT adapter folder)");
  nlohmann::json j = read_json_file(config_path);
  if (!j.is_object() || !j.contains("peft_type") || !j["peft_type"].is_string())
    throw Error(config_path + ": missing \"peft_type\"");
  const std::string type = j["peft_type"].get<std::string>();
  if (type != "LORA")
    throw Error(config_path + ": peft_type \"" + type + "\" is not supported yet (supported: LORA)");
  Adapter adapter = attach_lora(model, LoraConfig::from_json(j, config_path));

  const std::string weights = dir + "/adapter_model.safetensors";
  if (!std::filesystem::exists(weights))
    throw Error(dir + ": no adapter_model.safetensors" +
                (std::filesystem::exists(dir + "/adapter_model.bin")
                     ? std::string(" (adapter_model.bin, PyTorch's pickle format, is not read; re-save with safe_serialization)")
                     : std::string()));
  auto stored = load_safetensors(weights);
  at::NoGradGuard no_grad;
  std::size_t used = 0;
  for (auto& a : adapter.layers)
    for (auto& [name, t] : a.layer->tensors()) {
      const std::string key = kSavedPrefix + a.slot->name + "." + name;
      auto it = stored.find(key);
      if (it == stored.end()) throw Error(weights + ": missing tensor '" + key + "'");
      if (it->second.sizes() != t->sizes())
        throw Error(weights + ": tensor '" + key + "' has shape " + shape_string(it->second.sizes()) +
                    ", the adapter config implies " + shape_string(t->sizes()));
      t->copy_(it->second);
      ++used;
    }
  for (auto& m : adapter.saved_modules) {
    const std::string key = kSavedPrefix + m.slot->name + ".weight";
    auto it = stored.find(key);
    if (it == stored.end()) throw Error(weights + ": missing tensor '" + key + "' (modules_to_save)");
    if (it->second.sizes() != m.weight.sizes())
      throw Error(weights + ": tensor '" + key + "' has shape " + shape_string(it->second.sizes()) +
                  ", the model has " + shape_string(m.weight.sizes()));
    m.weight.copy_(it->second);
    ++used;
  }
  if (used != stored.size()) {
    auto sd = adapter.state_dict();
    for (const auto& [key, t] : stored)
      if (!sd.count(key))
        throw Error(weights + ": tensor '" + key + "' belongs to no module the adapter config targets");
  }
  return adapter;
}

}  // namespace axl::peft
