#pragma once
// One decoder for every supported family (Llama, Mistral, Qwen2/3, Gemma 1/2, Phi-3, GPT-2),
// switched by ModelConfig flags. Device- and dtype-generic: every tensor it makes takes its
// device and dtype from the weights or the inputs, so the same code runs on cpu, cuda or meta.
#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axl/kernels/attention.h"
#include "axl/models/linear_slot.h"
#include "axl/models/model_config.h"

namespace axl::models {

struct Norm {
  std::string name;  // module path, e.g. model.layers.0.input_layernorm
  NormKind kind = NormKind::RMS;
  at::Tensor weight, bias;
  double eps = 1e-6;
  bool defined() const { return weight.defined(); }
  at::Tensor forward(const at::Tensor& x) const;
};

struct DecoderLayer {
  std::optional<LinearSlot> q, k, v, qkv, o;
  std::optional<LinearSlot> gate, up, gate_up, down;
  Norm attn_norm, mlp_norm, attn_out_norm, mlp_out_norm, q_norm, k_norm;
  bool sliding = false;
  std::vector<LinearSlot*> slots();
};

// Keys and values of past positions, preallocated to `capacity` positions.
struct KVCache {
  std::vector<at::Tensor> k, v;  // per layer [B, Hkv, capacity, D]
  int64_t length = 0;
  int64_t capacity = 0;
};

// One decoder layer applied to its input hidden states.
using LayerFn = std::function<at::Tensor(const at::Tensor& x)>;
// Runs layer `index` (by calling `layer`, possibly again later: a recompute in backward).
// Training sets one for gradient checkpointing; the model itself knows nothing about it.
using LayerRunner = std::function<at::Tensor(int64_t index, const at::Tensor& x, const LayerFn& layer)>;

struct ForwardInput {
  at::Tensor input_ids;        // [B, T] int64
  at::Tensor attention_mask;   // [B, T(+past)] 1 = real token; optional
  at::Tensor position_ids;     // [B, T]; default: past .. past + T - 1
  at::Tensor cu_seqlens;       // packed rows (batch of one); optional
  KVCache* cache = nullptr;
  bool output_hidden_states = false;
  kernels::AttentionImpl attention = kernels::AttentionImpl::Auto;
  LayerRunner layer_runner;    // optional: wraps every decoder layer's call
};

struct ForwardOutput {
  at::Tensor logits;                       // [B, T, V]
  std::vector<at::Tensor> hidden_states;   // with output_hidden_states: L + 1 entries
};

class CausalLM {
 public:
  ModelConfig config;
  at::Tensor embed;      // [V, H]
  at::Tensor pos_embed;  // GPT-2 only
  std::vector<DecoderLayer> layers;
  Norm final_norm;
  LinearSlot lm_head;    // tied heads share `embed`
  at::Tensor inv_freq;   // RoPE frequencies (float32)

  ForwardOutput forward(const ForwardInput& in) const;
  // Final-norm hidden states [B, T, H] (what the head and the chunked loss consume).
  at::Tensor hidden(const ForwardInput& in, std::vector<at::Tensor>* all_hidden = nullptr) const;
  at::Tensor logits_from_hidden(const at::Tensor& h) const;
  // Decoder layer `index` on hidden states x (the residual stream in, the residual stream out).
  at::Tensor layer_forward(int64_t index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                           const ForwardInput& in) const;

  KVCache make_cache(int64_t batch, int64_t capacity) const;

  // Every tensor the model holds, under its Hugging Face name (tied head listed once).
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  std::vector<LinearSlot*> slots();
  at::Device device() const { return embed.device(); }
  at::ScalarType dtype() const { return embed.scalar_type(); }

 private:
  at::Tensor attention_block(const DecoderLayer& layer, const at::Tensor& x, int64_t layer_index,
                             const at::Tensor& cos, const at::Tensor& sin,
                             const ForwardInput& in) const;
  at::Tensor mlp_block(const DecoderLayer& layer, const at::Tensor& x) const;
};

// Virtual tokens (prompt tuning) put extra positions in front of the real ones: their labels
// are -100 (PEFT prepends them), so the first real token is predicted from the last virtual one.
at::Tensor pad_labels_for_virtual_tokens(const at::Tensor& labels, int64_t positions);

// transformers' causal-LM loss: logits[:, t] predicts labels[:, t + 1]; -100 is ignored;
// mean over the predicted tokens, in float32. Logits longer than labels: see above.
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace axl::models
