#pragma once
// The Adapter interface every PEFT method implements (LoRA now; DoRA, IA3, LoHa, ... later).
// Two levels: an AdapterLayer lives in one LinearSlot and wraps its computation; an Adapter is
// the whole set attached to a model, with its config, PEFT's saved tensor names, trainable
// parameters and merge/unmerge.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/models/linear_slot.h"

namespace axl::peft {

// One method's state inside one slot.
class AdapterLayer : public models::SlotAdapter {
 public:
  // The layer's tensors under the names PEFT saves after the module path, e.g. "lora_A.weight".
  virtual std::vector<std::pair<std::string, at::Tensor*>> tensors() = 0;
  // The slot's dense [out, in] weight with this layer folded in (merge).
  virtual at::Tensor merged_weight(const at::Tensor& weight) const = 0;
  // The slot's bias with this layer folded in (merge); only IA3's output scaling changes it.
  virtual at::Tensor merged_bias(const at::Tensor& bias) const { return bias; }
  virtual void set_training(bool training) = 0;
};

// A method's configuration as adapter_config.json holds it.
class AdapterConfig {
 public:
  virtual ~AdapterConfig() = default;
  virtual std::string peft_type() const = 0;
  virtual nlohmann::json to_json() const = 0;  // the fields PEFT 0.19.1 writes
  // PEFT's merge_and_unload works for this method (not for prefix/prompt tuning).
  virtual bool can_merge() const { return true; }
  // The base model the adapter was made for (adapter_config.json's base_model_name_or_path).
  virtual void set_base_model(const std::string& /*name*/) {}
};

// What a method needs beyond per-slot layers: a training-time loss term (AdaLoRA's orthogonal
// regularisation), work after each optimizer step (AdaLoRA's rank allocator), and model-level
// state to install and remove (prefix/prompt tuning's virtual tokens).
class AdapterHooks {
 public:
  virtual ~AdapterHooks() = default;
  // Added to every forward's loss when training or when gradients are asked for (PEFT adds it
  // inside the forward whenever labels are given); undefined: none.
  virtual at::Tensor regularization_loss() { return {}; }
  // Training knows its length only after the adapter is attached (AdaLoRA's total_step when
  // the config leaves it unset).
  virtual void on_train_begin(int64_t /*total_steps*/) {}
  // After optimizer.step(), before gradients are zeroed; `global_step` counts from 1.
  virtual void after_optimizer_step(int64_t /*global_step*/) {}
  // Training state beyond the tensors PEFT saves (AdaLoRA's importance averages), kept in
  // checkpoints so a resume is exact; empty: none.
  virtual std::map<std::string, at::Tensor> training_state() { return {}; }
  virtual void load_training_state(const std::map<std::string, at::Tensor>& /*state*/) {}
  // Install / remove model-level state (called by Adapter::activate / deactivate).
  virtual void activate() {}
  virtual void deactivate() {}
  // Rewrites what save_adapter writes (state_dict()) into PEFT's saved form where the
  // training form differs: prefix tuning's reparameterisation MLP is saved as its table.
  virtual void to_saved_form(std::map<std::string, at::Tensor>& /*tensors*/) {}
};

// A slot replaced wholesale by a trainable copy (PEFT's modules_to_save, e.g. lm_head).
struct SavedModule {
  models::LinearSlot* slot = nullptr;
  std::shared_ptr<models::SlotBase> original;
  at::Tensor weight;  // the trainable copy, [out, in]
};

// modules_to_save on the input embeddings (embed_tokens): a trainable copy replaces
// model.embed. A tied head keeps the frozen original, as PEFT's wrapper copies each module.
struct SavedEmbedding {
  models::CausalLM* model = nullptr;
  std::string name;  // module path, e.g. model.embed_tokens
  at::Tensor original;
  at::Tensor weight;  // the trainable copy, [V, H]
};

class Adapter {
 public:
  struct Attached {
    models::LinearSlot* slot = nullptr;
    std::shared_ptr<AdapterLayer> layer;
    std::shared_ptr<models::SlotBase> unmerged_base;  // set while merged
    at::Tensor unmerged_bias{};                        // the slot's bias before the merge
  };

  std::string name = "default";  // PEFT's adapter name (multi-adapter)
  std::shared_ptr<AdapterConfig> config;
  std::vector<Attached> layers;
  // Tensors saved under a key of their own, not per slot (VeRA's base_model.vera_A,
  // prefix/prompt tuning's prompt_embeddings). Frozen ones have requires_grad false.
  std::map<std::string, at::Tensor> shared_tensors;
  std::shared_ptr<AdapterHooks> hooks;  // optional
  std::vector<SavedModule> saved_modules;
  std::unique_ptr<SavedEmbedding> saved_embedding;  // a pointer: a moved-from adapter must not hold one

  Adapter() = default;
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;
  Adapter(Adapter&&) = default;
  Adapter& operator=(Adapter&&) = default;
  ~Adapter();  // takes the layers back out of the model's slots

  // Every adapter tensor under PEFT's saved key: base_model.model.<module>.<name> (plus
  // shared_tensors under their own keys). Handles to the live tensors: copy_ into them loads.
  std::map<std::string, at::Tensor> state_dict();
  // The tensors that train (requires_grad set), under their saved keys, and how many values.
  std::map<std::string, at::Tensor> trainable();
  int64_t trainable_count();
  void set_training(bool training);

  // Folds every layer into a new base weight and keeps the original for an exact unmerge.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }
  // Takes the adapter out of the model (unmerging first), leaving the base model unchanged.
  void detach();
  // Multi-adapter: takes the layers (and modules_to_save copies, and hooks' model state) out
  // of the model without forgetting them, and puts them back. New adapters start active.
  void deactivate();
  void activate();
  bool active() const { return active_; }

  // The hooks' loss term, or undefined.
  at::Tensor regularization_loss() { return hooks ? hooks->regularization_loss() : at::Tensor(); }

 private:
  bool merged_ = false;
  bool detached_ = false;
  bool active_ = true;
};

// Saved keys all start with this (PeftModel -> tuner -> the Hugging Face model).
inline const char* kSavedPrefix = "base_model.model.";

}  // namespace axl::peft
