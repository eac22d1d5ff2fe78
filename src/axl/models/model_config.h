#pragma once
// A Hugging Face config.json, reduced to the switches our one decoder needs. Families differ
// by these flags, not by code: see models/causal_lm.cpp. No libtorch here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "axl/kernels/rope_config.h"

namespace axl::models {

enum class NormKind { RMS, RMSPlusOne, LayerNorm };  // RMSPlusOne: Gemma's x * (1 + w)

using RopeConfig = kernels::RopeConfig;

struct ModelConfig {
  std::string model_type;  // llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 2048;
  double norm_eps = 1e-6;
  NormKind norm = NormKind::RMS;
  RopeConfig rope;
  std::string activation = "silu";  // silu, gelu_pytorch_tanh, gelu_new, gelu
  bool gated_mlp = true;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;           // q/k/v projections carry biases (Qwen2, attention_bias)
  bool o_bias = false;             // o_proj bias (attention_bias in Llama's sense)
  bool mlp_bias = false;
  bool fused_qkv = false;          // Phi-3 qkv_proj, GPT-2 c_attn
  bool fused_gate_up = false;      // Phi-3 gate_up_proj
  bool qk_norm = false;            // Qwen3 q_norm / k_norm over head_dim
  bool scale_embeddings = false;   // Gemma: embeddings times sqrt(hidden_size)
  bool sandwich_norms = false;     // Gemma 2: post-attention and pre/post feed-forward norms
  bool learned_positions = false;  // GPT-2 wpe
  double attn_softcap = 0.0;       // Gemma 2 attention logit soft-capping (0 = off)
  double final_softcap = 0.0;      // Gemma 2 final logit soft-capping (0 = off)
  double attn_scale = 0.0;         // score multiplier; 0 means 1/sqrt(head_dim)
  std::optional<int64_t> sliding_window;
  std::vector<bool> layer_sliding;  // per layer: uses the sliding window
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::string torch_dtype = "float32";

  bool is_gpt2() const { return model_type == "gpt2"; }
  int64_t rotary_dim() const {
    return static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  }
};

// Parses config.json text; `source` names the file in errors. Throws axl::Error for unknown
// model types and missing or inconsistent fields.
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);
ModelConfig load_model_config(const std::string& model_dir);

}  // namespace axl::models
