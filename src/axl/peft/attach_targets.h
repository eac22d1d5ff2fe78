#pragma once
// The loop every per-slot method shares when attaching: give each slot the targets select a
// fresh layer, in the model's slot order, and refuse a config that matches nothing.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"
#include "axl/peft/target_modules.h"

namespace axl::peft {

// The config's targets with the model type's defaults filled in when none were named (unset, or
// only filters such as exclude_modules given); `defaults` runs only then.
inline TargetModules& targets_or_defaults(std::optional<TargetModules>& targets,
                                          const std::function<std::vector<std::string>()>& defaults) {
  TargetModules& t = targets ? *targets : targets.emplace();
  if (t.kind == TargetModules::Kind::List && t.names.empty()) t.names = defaults();
  return t;
}

using MakeLayer = std::function<std::shared_ptr<AdapterLayer>(models::LinearSlot& slot)>;

inline void attach_to_targets(models::CausalLM& model, Adapter& adapter, const TargetModules& targets,
                              const std::string& method, const MakeLayer& make_layer) {
  for (models::LinearSlot* slot : model.slots()) {
    if (!targets.matches(slot->name, slot == &model.lm_head)) continue;
    std::shared_ptr<AdapterLayer> layer = make_layer(*slot);
    slot->adapters.push_back(layer);
    adapter.layers.push_back({slot, layer, nullptr, at::Tensor()});
  }
  if (adapter.layers.empty())
    throw Error(method + ": target_modules " + targets.to_json().dump() + " matched no linear module of this " +
                model.config.model_type + " model");
}

}  // namespace axl::peft
