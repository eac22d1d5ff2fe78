#pragma once
// Which model tensors train, and which of them get weight decay. Hugging Face's Trainer
// decays every trainable parameter except biases and normalisation weights
// (get_decay_parameter_names: LayerNorm modules, and names matching bias / layernorm /
// rmsnorm / `.norm.` / `_norm.`); we apply the same name rules plus the model's own Norm list.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "axl/models/causal_lm.h"

namespace axl::train {

struct NamedParam {
  std::string name;  // the Hugging Face name (state files are keyed by it)
  at::Tensor tensor;
  bool decay = true;
};

// HF's name rule alone (lower-cased name matched against its patterns).
bool hf_excludes_from_decay(const std::string& name);

// Every tensor of a full fine-tune, marked requires_grad, with its decay flag. The tensors
// must be writable (load with LoadOptions::writable) since the optimizer updates them in place.
std::vector<NamedParam> full_finetune_parameters(models::CausalLM& model);

// Marks decay flags on parameters given from elsewhere (adapters): HF's name rule.
std::vector<NamedParam> with_decay_flags(std::vector<NamedParam> params);

}  // namespace axl::train
