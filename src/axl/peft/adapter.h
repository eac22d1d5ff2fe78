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
  virtual void set_training(bool training) = 0;
};

// A method's configuration as adapter_config.json holds it.
class AdapterConfig {
 public:
  virtual ~AdapterConfig() = default;
  virtual std::string peft_type() const = 0;
  virtual nlohmann::json to_json() const = 0;  // the fields PEFT 0.19.1 writes
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
  };

  std::shared_ptr<AdapterConfig> config;
  std::vector<Attached> layers;
  std::vector<SavedModule> saved_modules;
  std::unique_ptr<SavedEmbedding> saved_embedding;  // a pointer: a moved-from adapter must not hold one

  Adapter() = default;
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;
  Adapter(Adapter&&) = default;
  Adapter& operator=(Adapter&&) = default;
  ~Adapter();  // takes the layers back out of the model's slots

  // Every adapter tensor under PEFT's saved key: base_model.model.<module>.<name>.
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

 private:
  bool merged_ = false;
  bool detached_ = false;
};

// Saved keys all start with this (PeftModel -> tuner -> the Hugging Face model).
inline const char* kSavedPrefix = "base_model.model.";

}  // namespace axl::peft
