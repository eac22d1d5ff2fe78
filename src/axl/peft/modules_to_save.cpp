#include "axl/peft/modules_to_save.h"

#include "axl/core/error.h"
#include "axl/peft/lora.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

namespace {

// PEFT's rule for a modules_to_save entry: the path equals it or ends with "." + it.
bool names_module(const std::string& path, const std::string& name) {
  TargetModules t;
  t.names = {name};
  return t.matches(path, false);
}

}  // namespace

void attach_modules_to_save(models::CausalLM& model, Adapter& adapter, const std::vector<std::string>& names,
                            const std::string& method) {
  const std::string embed_path = embedding_module_path(model);
  for (const std::string& name : names) {
    if (names_module(embed_path, name)) {
      if (adapter.saved_embedding) continue;
      SavedEmbedding e;
      e.model = &model;
      e.name = embed_path;
      e.original = model.embed;
      e.weight = model.embed.detach().clone().requires_grad_(true);
      model.embed = e.weight;
      adapter.saved_embedding = std::make_unique<SavedEmbedding>(e);
      continue;
    }
    bool found = false;
    for (models::LinearSlot* slot : model.slots()) {
      if (!names_module(slot->name, name)) continue;
      if (!slot->adapters.empty())
        throw Error(method + ": module '" + slot->name + "' is both a " + method + " target and in modules_to_save");
      SavedModule m;
      m.slot = slot;
      m.original = slot->base;
      m.weight = slot->base->dense_weight().detach().clone().requires_grad_(true);
      slot->base = std::make_shared<models::DenseBase>(m.weight);
      adapter.saved_modules.push_back(m);
      found = true;
    }
    if (!found)
      throw Error(method + ": modules_to_save entry '" + name + "' is not a linear module of this model nor its " +
                  embed_path + " (only those are supported)");
  }
}

}  // namespace axl::peft
