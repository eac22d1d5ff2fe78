#include "axl/peft/adapter.h"

#include <algorithm>

#include "axl/core/error.h"

namespace axl::peft {

namespace {

// modules_to_save: the trainable copy serves the slot in place of its frozen base.
std::shared_ptr<models::SlotBase> dense(const at::Tensor& w) {
  return std::make_shared<models::DenseBase>(w);
}

}  // namespace

Adapter::~Adapter() {
  if (!detached_) detach();
}

std::map<std::string, at::Tensor> Adapter::state_dict() {
  std::map<std::string, at::Tensor> out;
  for (auto& a : layers)
    for (auto& [name, t] : a.layer->tensors()) out[kSavedPrefix + a.slot->name + "." + name] = *t;
  for (auto& m : saved_modules) out[kSavedPrefix + m.slot->name + ".weight"] = m.weight;
  if (saved_embedding) out[kSavedPrefix + saved_embedding->name + ".weight"] = saved_embedding->weight;
  for (auto& [key, t] : shared_tensors) out[key] = t;
  return out;
}

std::map<std::string, at::Tensor> Adapter::trainable() {
  std::map<std::string, at::Tensor> out;
  for (auto& [name, t] : state_dict())
    if (t.requires_grad()) out[name] = t;
  return out;
}

int64_t Adapter::trainable_count() {
  int64_t n = 0;
  for (auto& [name, t] : trainable()) n += t.numel();
  return n;
}

void Adapter::set_training(bool training) {
  for (auto& a : layers) a.layer->set_training(training);
}

void Adapter::merge() {
  if (merged_) return;
  if (config && !config->can_merge())
    throw Error(config->peft_type() + " adapters cannot be merged into the base weights (PEFT cannot either)");
  if (!active_) throw Error("cannot merge adapter '" + name + "': it is not active");
  at::NoGradGuard no_grad;
  for (auto& a : layers) {
    auto& stack = a.slot->adapters;
    auto it = std::find(stack.begin(), stack.end(), a.layer);
    if (it == stack.end() || stack.size() != 1)
      throw Error("cannot merge into " + a.slot->name + ": it holds " + std::to_string(stack.size()) +
                  " adapters; merge needs exactly this one");
    stack.erase(it);
    a.unmerged_base = a.slot->base;
    a.slot->base = dense(a.layer->merged_weight(a.unmerged_base->dense_weight()));
    a.unmerged_bias = a.slot->bias;
    if (a.slot->bias.defined()) a.slot->bias = a.layer->merged_bias(a.slot->bias);
  }
  merged_ = true;
}

void Adapter::unmerge() {
  if (!merged_) return;
  for (auto& a : layers) {
    a.slot->base = a.unmerged_base;  // the original object: unmerging is exact
    a.unmerged_base.reset();
    a.slot->bias = a.unmerged_bias;
    a.unmerged_bias = at::Tensor();
    a.slot->adapters.push_back(a.layer);
  }
  merged_ = false;
}

void Adapter::deactivate() {
  if (!active_) return;
  if (merged_) throw Error("cannot deactivate adapter '" + name + "' while it is merged; unmerge it first");
  for (auto& a : layers) {
    auto& stack = a.slot->adapters;
    stack.erase(std::remove(stack.begin(), stack.end(), a.layer), stack.end());
  }
  for (auto& m : saved_modules) {
    std::swap(m.slot->base, m.original);  // original now holds the copy's base
  }
  if (saved_embedding) std::swap(saved_embedding->model->embed, saved_embedding->original);
  if (hooks) hooks->deactivate();
  active_ = false;
}

void Adapter::activate() {
  if (active_) return;
  for (auto& a : layers) a.slot->adapters.push_back(a.layer);
  for (auto& m : saved_modules) std::swap(m.slot->base, m.original);
  if (saved_embedding) std::swap(saved_embedding->model->embed, saved_embedding->original);
  if (hooks) hooks->activate();
  active_ = true;
}

void Adapter::detach() {
  if (!active_) {  // already out of the model: nothing to take back
    layers.clear();
    saved_modules.clear();
    saved_embedding.reset();
    shared_tensors.clear();
    hooks.reset();
    detached_ = true;
    return;
  }
  unmerge();
  if (hooks) hooks->deactivate();
  for (auto& a : layers) {
    auto& stack = a.slot->adapters;
    stack.erase(std::remove(stack.begin(), stack.end(), a.layer), stack.end());
  }
  for (auto& m : saved_modules) m.slot->base = m.original;
  if (saved_embedding) saved_embedding->model->embed = saved_embedding->original;
  layers.clear();
  saved_modules.clear();
  saved_embedding.reset();
  shared_tensors.clear();
  hooks.reset();
  detached_ = true;
}

}  // namespace axl::peft
