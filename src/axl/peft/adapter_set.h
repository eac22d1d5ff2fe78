#pragma once
// Several named adapters on one base model, as PEFT's PeftModel holds them: the first is
// "default" by convention and starts active, later ones are loaded inactive; set_active picks
// one or several (their layers stack in each slot, so active LoRAs add their deltas, as PEFT's
// LoRA layer sums its active adapters); disable() leaves the plain base, bit for bit; save()
// writes PEFT's save_pretrained layout ("default" in the folder itself, others in a subfolder
// named after the adapter). Method-agnostic: it only moves whole Adapters in and out.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/peft/adapter.h"

namespace axl::peft {

class AdapterSet {
 public:
  explicit AdapterSet(models::CausalLM& model) : model_(&model) {}
  AdapterSet(const AdapterSet&) = delete;
  AdapterSet& operator=(const AdapterSet&) = delete;
  ~AdapterSet();  // unmerges and takes every adapter out: the base model is left as it was

  // Loads a PEFT adapter folder under `name`. The first adapter of the set becomes active;
  // later ones stay inactive until set_active (PeftModel.load_adapter). Throws axl::Error for a
  // name already in use and for anything load_adapter refuses.
  Adapter& load(const std::string& dir, const std::string& name = "default");
  // Attaches what `make` builds on this set's model (attach_adapter, attach_lora, ...) under
  // `name`, with every other adapter out of the model meanwhile (attaching checks the slots);
  // the same activation rule as load.
  Adapter& attach(const std::string& name, const std::function<Adapter(models::CausalLM&)>& make);

  // PEFT's set_adapter: exactly these are active, their layers stacked in this order.
  void set_active(const std::vector<std::string>& names);
  void set_active(const std::string& name) { set_active(std::vector<std::string>{name}); }
  const std::vector<std::string>& active() const { return active_; }

  // PEFT's disable_adapter: every adapter out of the model (the plain base), and back.
  void disable();
  void enable();
  bool disabled() const { return disabled_; }

  // PEFT's delete_adapter: an active one leaves the active list; when none is left active, the
  // first remaining name (sorted) becomes active.
  void remove(const std::string& name);

  // Folds the active adapters into the base weights one after another; unmerge() restores the
  // base exactly (in reverse order). While merged, the active set cannot change.
  void merge();
  void unmerge();
  bool merged() const { return !merge_order_.empty(); }

  bool contains(const std::string& name) const;
  Adapter& get(const std::string& name);
  std::vector<std::string> names() const;  // in the order added
  models::CausalLM& model() { return *model_; }

  // PEFT's save_pretrained(dir, selected_adapters): every adapter when `selected` is empty.
  void save(const std::string& dir, const std::vector<std::string>& selected = {});

 private:
  // Everything out of the model while something new attaches (attach checks the slot stacks).
  void deactivate_all();
  void activate_listed();
  std::vector<std::pair<std::string, std::unique_ptr<Adapter>>> adapters_;
  models::CausalLM* model_;
  std::vector<std::string> active_;
  std::vector<std::string> merge_order_;
  bool disabled_ = false;
};

}  // namespace axl::peft
