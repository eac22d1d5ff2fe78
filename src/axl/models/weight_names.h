#pragma once
// Where each part of the decoder lives in a Hugging Face checkpoint, per family. This table
// is the whole name mapping: adding a family with the usual layout is a new row, not code.
// Layer names are relative to layer_prefix + "<i>.".
#include <string>

#include "axl/models/model_config.h"

namespace axl::models {

struct WeightNames {
  std::string embed, pos_embed, final_norm, lm_head, layer_prefix;
  std::string q, k, v, qkv, o;           // attention projections (qkv when fused)
  std::string gate, up, gate_up, down;   // MLP projections (gate_up when fused; no gate when ungated)
  std::string attn_norm, mlp_norm;       // the norms before attention and before the MLP
  std::string attn_out_norm, mlp_out_norm;  // Gemma 2's norms after attention and after the MLP
  std::string q_norm, k_norm;            // Qwen3
  bool conv1d = false;                   // GPT-2 stores weights as [in, out]
};

const WeightNames& weight_names_for(const ModelConfig& cfg);

}  // namespace axl::models
