#pragma once
// Parameter and trainable-parameter counts from config.json shapes alone (no model is built),
// for `axolotl validate`'s plan. LoRA adds r * (in + out) per targeted linear layer (plus
// `out` magnitudes with DoRA); modules_to_save makes those modules' own weights trainable.
#include <cstdint>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/models/model_config.h"

namespace axl::config {

// One linear layer of the decoder, with the module name PEFT would see.
struct LinearLayer {
  std::string name;  // "model.layers.0.self_attn.q_proj"
  int64_t in = 0, out = 0;
  bool bias = false;
};

// Every linear layer, lm_head last (absent when tied to the embeddings).
std::vector<LinearLayer> linear_layers(const models::ModelConfig& m);

struct ParameterCount {
  int64_t total = 0;      // base model parameters (tied weights once)
  int64_t trainable = 0;  // full fine-tune: total; LoRA: adapter (+ modules_to_save)
  int64_t adapter = 0;    // LoRA/DoRA parameters added
  std::vector<std::string> targeted;  // short names of the targeted modules, e.g. q_proj
  int64_t targeted_layers = 0;        // how many linear layers got an adapter
};

// Throws axl::Error (naming the key at `where`) when LoRA targets match no linear layer.
ParameterCount count_parameters(const models::ModelConfig& m, const Config& cfg, const std::string& where);

}  // namespace axl::config
