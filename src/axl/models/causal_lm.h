#pragma once
// One decoder for every supported family (Llama, Mistral, Qwen2/3, Gemma 1/2, Phi-3, GPT-2),
// switched by ModelConfig flags. Device- and dtype-generic: every tensor it makes takes its
// device and dtype from the weights or the inputs, so the same code runs on cpu, cuda or meta.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axl/kernels/attention.h"
#include "axl/kernels/fused_ops.h"
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
  // How many leading positions hold virtual tokens (prefix keys/values or prompt embeddings'
  // positions); attention masks given by callers cover only the positions after them.
  int64_t virtual_length = 0;
};

// What a prompt-learning adapter adds to a forward, made for one batch size. The model knows
// only this interface (the adapters live in peft/, which the model never includes).
struct VirtualTokenInputs {
  // [B, P, H]: put in front of the token embeddings, before the embedding scale and the
  // position embeddings, as transformers treats inputs_embeds (prompt tuning).
  at::Tensor embeddings;
  // Per layer [B, Hkv, P, D]: keys and values in front of every layer's own, no rotary on
  // them; the real tokens sit at positions P.. (prefix tuning).
  std::vector<at::Tensor> keys, values;
};

class VirtualTokens {
 public:
  virtual ~VirtualTokens() = default;
  virtual int64_t count() const = 0;  // P, the positions added in front
  virtual VirtualTokenInputs make(int64_t batch) const = 0;
};

// One decoder layer applied to its input hidden states.
using LayerFn = std::function<at::Tensor(const at::Tensor& x)>;
// Runs layer `index` (by calling `layer`, possibly again later: a recompute in backward).
// Training sets one for gradient checkpointing; the model itself knows nothing about it.
// `extra_inputs` are tensors made outside the layer that it reads (prefix keys/values) and
// that may need gradients: a recompute must route gradients to them.
using LayerRunner = std::function<at::Tensor(int64_t index, const at::Tensor& x, const LayerFn& layer,
                                             const std::vector<at::Tensor>& extra_inputs)>;

// Prefix keys/values for one layer's attention (undefined: none).
struct LayerPrefix {
  at::Tensor k, v;  // [B, Hkv, P, D]
};

// With virtual tokens installed (CausalLM::virtual_tokens), attention_mask and position_ids
// still describe the real tokens only: the model prepends P ones to the mask, shifts given
// positions by P (prefix tuning) or, as PEFT does for prompt tuning, ignores them.
struct ForwardInput {
  at::Tensor input_ids;        // [B, T] int64
  at::Tensor attention_mask;   // [B, T(+past)] 1 = real token; optional
  at::Tensor position_ids;     // [B, T]; default: past .. past + T - 1
  at::Tensor cu_seqlens;       // packed rows (batch of one); optional
  std::vector<int64_t> cu_seqlens_host;  // its host copy; empty: made once per forward
  KVCache* cache = nullptr;
  bool output_hidden_states = false;
  kernels::AttentionImpl attention = kernels::AttentionImpl::Auto;
  LayerRunner layer_runner;    // optional: wraps every decoder layer's call
  // Fused autograd functions for training (kernels/fused_ops.h); a block whose slots are not
  // all "frozen base + one plain LoRA" keeps the plain path.
  kernels::FusedOps fused;
};

struct ForwardOutput {
  at::Tensor logits;                       // [B, T, V]; [B, P + T, V] with prompt tuning
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
  // Installed by a prompt-learning adapter (prefix / prompt tuning); empty: none. Used in a
  // forward without a cache, or in the first call with an empty one (the cache keeps them).
  std::shared_ptr<VirtualTokens> virtual_tokens;

  ForwardOutput forward(const ForwardInput& in) const;
  // Final-norm hidden states [B, T, H] (what the head and the chunked loss consume).
  at::Tensor hidden(const ForwardInput& in, std::vector<at::Tensor>* all_hidden = nullptr) const;
  at::Tensor logits_from_hidden(const at::Tensor& h) const;
  // Decoder layer `index` on hidden states x (the residual stream in, the residual stream out).
  at::Tensor layer_forward(int64_t index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                           const ForwardInput& in, const LayerPrefix& prefix = {}) const;

  KVCache make_cache(int64_t batch, int64_t capacity) const;

  // Every tensor the model holds, under its Hugging Face name (tied head listed once).
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  std::vector<LinearSlot*> slots();
  at::Device device() const { return embed.device(); }
  at::ScalarType dtype() const { return embed.scalar_type(); }

 private:
  at::Tensor attention_block(const DecoderLayer& layer, const at::Tensor& x, int64_t layer_index,
                             const at::Tensor& cos, const at::Tensor& sin,
                             const ForwardInput& in, const LayerPrefix& prefix) const;
  at::Tensor mlp_block(const DecoderLayer& layer, const at::Tensor& x, const kernels::FusedOps& fused) const;
};

// Virtual tokens (prompt tuning) put extra positions in front of the real ones: their labels
// are -100 (PEFT prepends them), so the first real token is predicted from the last virtual one.
at::Tensor pad_labels_for_virtual_tokens(const at::Tensor& labels, int64_t positions);

// transformers' causal-LM loss: logits[:, t] predicts labels[:, t + 1]; -100 is ignored;
// mean over the predicted tokens, in float32. Logits longer than labels: see above.
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace axl::models
