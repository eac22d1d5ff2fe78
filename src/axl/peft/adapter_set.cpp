#include "axl/peft/adapter_set.h"

#include <algorithm>
#include <filesystem>

#include "axl/core/error.h"
#include "axl/peft/adapter_io.h"

namespace axl::peft {

namespace {

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

AdapterSet::~AdapterSet() {
  // Reverse order everywhere: each merge and each modules_to_save swap saw the state the
  // previous ones left, so undoing them backwards restores the base exactly.
  try {
    unmerge();
  } catch (...) {
  }
  for (auto it = adapters_.rbegin(); it != adapters_.rend(); ++it)
    if (it->second->active()) it->second->deactivate();
  for (auto it = adapters_.rbegin(); it != adapters_.rend(); ++it) it->second->detach();
}

bool AdapterSet::contains(const std::string& name) const {
  for (const auto& [n, a] : adapters_)
    if (n == name) return true;
  return false;
}

Adapter& AdapterSet::get(const std::string& name) {
  for (auto& [n, a] : adapters_)
    if (n == name) return *a;
  throw Error("no adapter named '" + name + "' (loaded: " + [&] {
    std::string list;
    for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
    return list.empty() ? std::string("none") : list;
  }() + ")");
}

std::vector<std::string> AdapterSet::names() const {
  std::vector<std::string> out;
  for (const auto& [n, a] : adapters_) out.push_back(n);
  return out;
}

void AdapterSet::deactivate_all() {
  if (merged()) throw Error("adapters are merged into the base weights; unmerge them first");
  for (auto it = active_.rbegin(); it != active_.rend(); ++it) get(*it).deactivate();
}

void AdapterSet::activate_listed() {
  if (disabled_) return;
  for (const auto& n : active_) get(n).activate();
}

Adapter& AdapterSet::attach(const std::string& name, const std::function<Adapter(models::CausalLM&)>& make) {
  if (name.empty()) throw Error("an adapter name must not be empty");
  if (contains(name)) throw Error("an adapter named '" + name + "' is already loaded; choose another name");
  deactivate_all();
  std::unique_ptr<Adapter> adapter;
  try {
    adapter = std::make_unique<Adapter>(make(*model_));
  } catch (...) {
    activate_listed();
    throw;
  }
  adapter->name = name;
  adapter->deactivate();
  adapters_.emplace_back(name, std::move(adapter));
  if (adapters_.size() == 1) active_ = {name};
  activate_listed();
  return *adapters_.back().second;
}

Adapter& AdapterSet::load(const std::string& dir, const std::string& name) {
  return attach(name, [&](models::CausalLM& model) { return load_adapter(model, dir); });
}

void AdapterSet::set_active(const std::vector<std::string>& names_in) {
  for (const auto& n : names_in) get(n);  // every name exists, before anything changes
  for (auto it = names_in.begin(); it != names_in.end(); ++it)
    if (std::find(names_in.begin(), it, *it) != it) throw Error("adapter '" + *it + "' is listed twice");
  if (disabled_) {
    active_ = names_in;
    return;
  }
  deactivate_all();
  active_ = names_in;
  activate_listed();
}

void AdapterSet::disable() {
  if (disabled_) return;
  deactivate_all();
  disabled_ = true;
}

void AdapterSet::enable() {
  if (!disabled_) return;
  disabled_ = false;
  activate_listed();
}

void AdapterSet::remove(const std::string& name) {
  Adapter& adapter = get(name);
  if (merged()) throw Error("cannot delete adapter '" + name + "' while adapters are merged; unmerge first");
  const bool was_active = listed(active_, name);
  if (adapter.active()) {
    // Others stacked after it in a slot stay where they are: only its own layers leave.
    deactivate_all();
    active_.erase(std::find(active_.begin(), active_.end(), name));
    activate_listed();
  } else if (was_active) {
    active_.erase(std::find(active_.begin(), active_.end(), name));
  }
  adapter.detach();
  adapters_.erase(std::find_if(adapters_.begin(), adapters_.end(), [&](const auto& p) { return p.first == name; }));
  if (was_active && active_.empty() && !adapters_.empty()) {
    std::vector<std::string> rest = names();
    std::sort(rest.begin(), rest.end());
    set_active(rest.front());
  }
}

void AdapterSet::merge() {
  if (merged()) return;
  if (disabled_) throw Error("cannot merge: adapters are disabled");
  if (active_.empty()) throw Error("cannot merge: no adapter is active");
  // One at a time: Adapter::merge folds a layer only when it is alone in its slot, so the
  // others step out meanwhile and come back onto the already merged base.
  deactivate_all();
  try {
    for (const auto& n : active_) {
      Adapter& a = get(n);
      a.activate();
      a.merge();
      merge_order_.push_back(n);
    }
  } catch (...) {
    unmerge();
    deactivate_all();  // the adapter that failed, and those never reached, back as they were
    activate_listed();
    throw;
  }
}

void AdapterSet::unmerge() {
  if (!merged()) return;
  // Each adapter's unmerge puts back the base it found; undone backwards, the first merged
  // restores the original base object, and every layer is back in its slot.
  for (auto it = merge_order_.rbegin(); it != merge_order_.rend(); ++it) get(*it).unmerge();
  merge_order_.clear();
  // Unmerging pushed the layers back in reverse; restack them in the active order.
  deactivate_all();
  activate_listed();
}

void AdapterSet::save(const std::string& dir, const std::vector<std::string>& selected) {
  const std::vector<std::string> which = selected.empty() ? names() : selected;
  for (const auto& n : which) get(n);
  for (const auto& n : which)
    save_adapter(get(n), n == "default" ? dir : (std::filesystem::path(dir) / n).string());
}

}  // namespace axl::peft
