#include "axl/models/causal_lm.h"

#include <cmath>

#include "axl/core/error.h"
#include "axl/kernels/lora_mlp_function.h"
#include "axl/kernels/norms.h"
#include "axl/kernels/packed_attention.h"
#include "axl/kernels/rms_norm_function.h"
#include "axl/kernels/rope.h"
#include "axl/kernels/rope_inplace.h"
#include "axl/models/weight_names.h"

namespace axl::models {

at::Tensor Norm::forward(const at::Tensor& x) const {
  switch (kind) {
    case NormKind::RMS: return kernels::rms_norm(x, weight, eps);
    case NormKind::RMSPlusOne: return kernels::rms_norm_plus_one(x, weight, eps);
    case NormKind::LayerNorm: return kernels::layer_norm(x, weight, bias, eps);
  }
  return x;
}

std::vector<LinearSlot*> DecoderLayer::slots() {
  std::vector<LinearSlot*> out;
  for (auto* s : {&q, &k, &v, &qkv, &o, &gate, &up, &gate_up, &down})
    if (s->has_value()) out.push_back(&s->value());
  return out;
}

namespace {

at::Tensor activation(const std::string& name, const at::Tensor& x) {
  if (const auto gated = kernels::gated_activation(name)) return kernels::apply_activation(x, *gated);
  if (name == "relu") return at::relu(x);
  throw Error("unsupported activation '" + name + "'");
}

// Every slot as "frozen base + at most one plain low-rank update", or nullopt when one is not.
std::optional<std::vector<kernels::LowRankLinear>> low_rank_slots(
    std::initializer_list<const std::optional<LinearSlot>*> slots) {
  std::vector<kernels::LowRankLinear> out;
  for (const auto* s : slots) {
    if (!s->has_value()) return std::nullopt;
    std::optional<kernels::LowRankLinear> p = (*s)->low_rank();
    if (!p) return std::nullopt;
    out.push_back(std::move(*p));
  }
  return out;
}

// The norm through the fused RMSNorm function when asked (RMS kinds only).
at::Tensor norm_forward(const Norm& norm, const at::Tensor& x, const kernels::FusedOps& fused) {
  if (fused.rms_norm && norm.kind != NormKind::LayerNorm)
    return kernels::rms_norm_fused(x, norm.weight, norm.eps, norm.kind == NormKind::RMSPlusOne);
  return norm.forward(x);
}

// A projection's output [B, T, heads * D] rotated in place (a copy first if it is a view).
at::Tensor rope_in_place(const at::Tensor& t, int64_t head_dim, const at::Tensor& cos, const at::Tensor& sin) {
  const at::Tensor target = kernels::can_rotate_in_place(t) ? t : t.clone(at::MemoryFormat::Contiguous);
  return kernels::apply_rope_inplace_(target, head_dim, cos, sin);
}

// [B, T, heads * D] -> [B, heads, T, D]
at::Tensor split_heads(const at::Tensor& x, int64_t heads, int64_t d) {
  return x.view({x.size(0), x.size(1), heads, d}).transpose(1, 2);
}

}  // namespace

at::Tensor CausalLM::attention_block(const DecoderLayer& layer, const at::Tensor& x,
                                     int64_t layer_index, const at::Tensor& cos,
                                     const at::Tensor& sin, const ForwardInput& in,
                                     const LayerPrefix& prefix) const {
  const ModelConfig& c = config;
  const int64_t d = c.head_dim, nq = c.num_heads * d, nkv = c.num_kv_heads * d;
  at::Tensor q, k, v;
  std::optional<std::vector<kernels::LowRankLinear>> qkv_parts;
  if (in.fused.lora_qkv) qkv_parts = layer.qkv ? low_rank_slots({&layer.qkv}) : low_rank_slots({&layer.q, &layer.k, &layer.v});
  if (qkv_parts && !layer.qkv) {
    const std::vector<at::Tensor> outs = kernels::lora_linear_group(x, *qkv_parts);
    q = outs[0], k = outs[1], v = outs[2];
  } else if (layer.qkv) {
    at::Tensor fused = qkv_parts ? kernels::lora_linear_group(x, *qkv_parts)[0] : layer.qkv->forward(x);
    q = fused.narrow(-1, 0, nq);
    k = fused.narrow(-1, nq, nkv);
    v = fused.narrow(-1, nq + nkv, nkv);
  } else {
    q = layer.q->forward(x);
    k = layer.k->forward(x);
    v = layer.v->forward(x);
  }
  // In place on the projections' outputs, before the heads are split (per-head q/k norms
  // come between the two on Qwen3/Gemma 3: those keep the plain path).
  const bool rotate_in_place = in.fused.rope && !c.learned_positions && !layer.q_norm.defined();
  if (rotate_in_place) {
    q = rope_in_place(q, d, cos, sin);
    k = rope_in_place(k, d, cos, sin);
  }
  q = split_heads(q, c.num_heads, d);
  k = split_heads(k, c.num_kv_heads, d);
  v = split_heads(v, c.num_kv_heads, d);
  if (layer.q_norm.defined()) {
    q = layer.q_norm.forward(q);
    k = layer.k_norm.forward(k);
  }
  if (!c.learned_positions && !rotate_in_place) {
    q = kernels::apply_rope(q, cos, sin);
    k = kernels::apply_rope(k, cos, sin);
  }

  kernels::AttentionSpec spec;
  spec.scale = c.attn_scale;
  spec.softcap = c.attn_softcap;
  spec.impl = in.attention;
  if (layer.sliding && c.sliding_window) spec.sliding_window = *c.sliding_window;
  spec.key_padding_mask = in.attention_mask;
  spec.cu_seqlens = in.cu_seqlens;
  spec.cu_seqlens_host = in.cu_seqlens_host;
  if (prefix.k.defined()) {
    // Prefix tuning without a cache: the prefix keys come first and the queries after them.
    k = at::cat({prefix.k.to(k.scalar_type()), k}, 2);
    v = at::cat({prefix.v.to(v.scalar_type()), v}, 2);
    spec.q_offset = prefix.k.size(2);
  }
  if (in.cache != nullptr) {
    KVCache& cache = *in.cache;
    const int64_t t = x.size(1), start = cache.length;
    if (start + t > cache.capacity)
      throw Error("KV cache full: " + std::to_string(start + t) + " positions, capacity " +
                  std::to_string(cache.capacity));
    cache.k[layer_index].narrow(2, start, t).copy_(k);
    cache.v[layer_index].narrow(2, start, t).copy_(v);
    k = cache.k[layer_index].narrow(2, 0, start + t);
    v = cache.v[layer_index].narrow(2, 0, start + t);
    spec.q_offset = start;
  }
  at::Tensor out = kernels::attention(q, k, v, spec);  // [B, H, T, D]
  out = out.transpose(1, 2).reshape({x.size(0), x.size(1), nq});
  if (in.fused.lora_o)
    if (auto o_parts = low_rank_slots({&layer.o})) return kernels::lora_linear_group(out, *o_parts)[0];
  return layer.o->forward(out);
}

at::Tensor CausalLM::mlp_block(const DecoderLayer& layer, const at::Tensor& x, const kernels::FusedOps& fused) const {
  const std::string& act = config.activation;
  if (fused.lora_mlp)
    if (const auto gated = kernels::gated_activation(act)) {
      auto parts = layer.gate_up ? low_rank_slots({&layer.gate_up, &layer.down})
                   : layer.gate  ? low_rank_slots({&layer.gate, &layer.up, &layer.down})
                                 : std::nullopt;
      if (parts) {
        const kernels::LowRankLinear down = parts->back();
        parts->pop_back();
        return kernels::lora_gated_mlp(x, *parts, down, *gated);
      }
    }
  if (layer.gate_up) {
    at::Tensor gu = layer.gate_up->forward(x);
    const int64_t n = gu.size(-1) / 2;
    return layer.down->forward(activation(act, gu.narrow(-1, 0, n)) * gu.narrow(-1, n, n));
  }
  if (layer.gate) {
    // gate before up, as transformers runs them: their LoRA dropout masks come off the random
    // stream in that order (the fused MLP draws them so too).
    const at::Tensor gate = activation(act, layer.gate->forward(x));
    return layer.down->forward(gate * layer.up->forward(x));
  }
  return layer.down->forward(activation(act, layer.up->forward(x)));
}

at::Tensor CausalLM::layer_forward(int64_t index, const at::Tensor& x, const at::Tensor& cos,
                                   const at::Tensor& sin, const ForwardInput& in,
                                   const LayerPrefix& prefix) const {
  const DecoderLayer& layer = layers[static_cast<std::size_t>(index)];
  at::Tensor a = attention_block(layer, norm_forward(layer.attn_norm, x, in.fused), index, cos, sin, in, prefix);
  if (layer.attn_out_norm.defined()) a = layer.attn_out_norm.forward(a);
  at::Tensor h = x + a;
  at::Tensor m = mlp_block(layer, norm_forward(layer.mlp_norm, h, in.fused), in.fused);
  if (layer.mlp_out_norm.defined()) m = layer.mlp_out_norm.forward(m);
  return h + m;
}

namespace {

// The virtual tokens for this call, checked against the model's shapes; none where the
// model has none or a cache already holds them.
VirtualTokenInputs virtual_inputs(const CausalLM& m, int64_t batch, const KVCache* cache) {
  if (!m.virtual_tokens || (cache != nullptr && cache->length > 0)) return {};
  VirtualTokenInputs v = m.virtual_tokens->make(batch);
  const ModelConfig& c = m.config;
  if (v.embeddings.defined() &&
      (v.embeddings.dim() != 3 || v.embeddings.size(0) != batch || v.embeddings.size(2) != c.hidden_size))
    throw Error("virtual tokens: prompt embeddings must be [batch, P, " + std::to_string(c.hidden_size) + "]");
  if (!v.keys.empty()) {
    if (v.keys.size() != m.layers.size() || v.values.size() != m.layers.size())
      throw Error("virtual tokens: prefix keys/values for " + std::to_string(v.keys.size()) + " layers, the model has " +
                  std::to_string(m.layers.size()));
    for (const auto* list : {&v.keys, &v.values})
      for (const at::Tensor& t : *list)
        if (t.dim() != 4 || t.size(0) != batch || t.size(1) != c.num_kv_heads || t.size(3) != c.head_dim ||
            t.size(2) != v.keys[0].size(2))
          throw Error("virtual tokens: prefix keys/values must be [batch, " + std::to_string(c.num_kv_heads) +
                      " key/value heads, P, " + std::to_string(c.head_dim) + "]");
  }
  return v;
}

}  // namespace

at::Tensor CausalLM::hidden(const ForwardInput& in, std::vector<at::Tensor>* all_hidden) const {
  const ModelConfig& c = config;
  const at::Tensor& ids = in.input_ids;
  if (ids.dim() != 2) throw Error("input_ids must be [batch, seq]");
  const int64_t batch = ids.size(0);
  KVCache* cache = in.cache;

  // Virtual tokens (prefix / prompt tuning) enter once: in a forward without a cache, or in
  // the first call with an empty one, whose first positions then keep them.
  const VirtualTokenInputs virt = virtual_inputs(*this, batch, cache);
  const int64_t prefix_len = virt.keys.empty() ? 0 : virt.keys[0].size(2);
  const int64_t prompt_len = virt.embeddings.defined() ? virt.embeddings.size(1) : 0;
  if ((prefix_len > 0 || prompt_len > 0) && in.cu_seqlens.defined())
    throw Error("prefix/prompt tuning cannot run on packed sequences (sample_packing); turn packing off");
  if (cache != nullptr && prefix_len > 0) {
    if (prefix_len + ids.size(1) > cache->capacity)
      throw Error("KV cache full: the prefix needs " + std::to_string(prefix_len) + " more positions");
    for (std::size_t i = 0; i < layers.size(); ++i) {
      cache->k[i].narrow(2, 0, prefix_len).copy_(virt.keys[i]);
      cache->v[i].narrow(2, 0, prefix_len).copy_(virt.values[i]);
    }
    cache->length = prefix_len;
  }
  if (cache != nullptr && (prefix_len > 0 || prompt_len > 0)) cache->virtual_length = prefix_len + prompt_len;
  // Leading virtual key positions the caller's mask and positions do not count.
  const int64_t virtual_keys = cache != nullptr ? cache->virtual_length : prefix_len + prompt_len;
  const int64_t past = cache != nullptr ? cache->length : prefix_len;

  at::Tensor x = at::embedding(embed, ids);
  if (prompt_len > 0) x = at::cat({virt.embeddings.to(x.scalar_type()), x}, 1);
  const int64_t t = x.size(1);

  ForwardInput layer_in = in;  // what every layer sees: the mask over all keys
  layer_in.layer_runner = nullptr;
  // Packed boundaries on the host once per forward (and for every recompute of a layer), not
  // once per layer from a device tensor.
  if (in.cu_seqlens.defined() && in.cu_seqlens_host.empty())
    layer_in.cu_seqlens_host = kernels::packed_segment_bounds(in.cu_seqlens, t);
  if (virtual_keys > 0 && in.attention_mask.defined())
    layer_in.attention_mask = at::cat({at::ones({batch, virtual_keys}, in.attention_mask.options()), in.attention_mask}, 1);

  at::Tensor positions = in.position_ids;
  if (prompt_len > 0) positions = at::Tensor();  // PEFT ignores them for prompt tuning
  else if (positions.defined() && virtual_keys > 0) positions = positions + virtual_keys;
  if (!positions.defined())
    positions = at::arange(past, past + t, ids.options().dtype(at::kLong)).unsqueeze(0).expand({batch, t});

  if (c.scale_embeddings) {
    // transformers multiplies by sqrt(hidden) rounded to the activation dtype.
    at::Tensor scale = at::scalar_tensor(std::sqrt(static_cast<double>(c.hidden_size)),
                                         x.options().dtype(at::kFloat)).to(x.scalar_type());
    x = x * scale;
  }
  if (c.learned_positions) x = x + at::embedding(pos_embed, positions);

  at::Tensor cos, sin;
  if (!c.learned_positions) {
    at::Tensor freqs = inv_freq;
    if (c.rope.type == "dynamic")
      freqs = kernels::rope_inv_freq(c.rope, c.rotary_dim(), c.max_position_embeddings,
                                     past + t, embed.device());
    std::tie(cos, sin) = kernels::rope_cos_sin(freqs.to(ids.device()), positions, x.scalar_type());
  }

  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (all_hidden) all_hidden->push_back(x);
    const auto index = static_cast<int64_t>(i);
    LayerPrefix prefix;
    if (prefix_len > 0 && cache == nullptr) prefix = {virt.keys[i], virt.values[i]};
    if (!in.layer_runner) {
      x = layer_forward(index, x, cos, sin, layer_in, prefix);
      continue;
    }
    // The runner may call the layer again after this function has returned (a recompute in
    // backward), so the closure owns copies of what it needs; the prefix tensors go to the
    // runner too, so that a recompute gives them their gradients.
    std::vector<at::Tensor> extra;
    if (prefix.k.defined()) extra = {prefix.k, prefix.v};
    x = in.layer_runner(index, x, [this, index, cos, sin, layer_in, prefix](const at::Tensor& h) {
      return layer_forward(index, h, cos, sin, layer_in, prefix);
    }, extra);
  }
  if (cache != nullptr) cache->length += t;
  x = norm_forward(final_norm, x, in.fused);
  if (all_hidden) all_hidden->push_back(x);
  return x;
}

at::Tensor CausalLM::logits_from_hidden(const at::Tensor& h) const {
  at::Tensor logits = lm_head.forward(h);
  if (config.final_softcap != 0.0)
    logits = at::tanh(logits / config.final_softcap) * config.final_softcap;
  return logits;
}

ForwardOutput CausalLM::forward(const ForwardInput& in) const {
  ForwardOutput out;
  at::Tensor h = hidden(in, in.output_hidden_states ? &out.hidden_states : nullptr);
  out.logits = logits_from_hidden(h);
  return out;
}

KVCache CausalLM::make_cache(int64_t batch, int64_t capacity) const {
  KVCache cache;
  cache.capacity = capacity;
  auto opts = embed.options();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    cache.k.push_back(at::empty({batch, config.num_kv_heads, capacity, config.head_dim}, opts));
    cache.v.push_back(at::empty({batch, config.num_kv_heads, capacity, config.head_dim}, opts));
  }
  return cache;
}

std::vector<LinearSlot*> CausalLM::slots() {
  std::vector<LinearSlot*> out;
  for (auto& layer : layers)
    for (auto* s : layer.slots()) out.push_back(s);
  out.push_back(&lm_head);
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> CausalLM::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto add_norm = [&](const Norm& n) {
    if (!n.defined()) return;
    out.emplace_back(n.name + ".weight", n.weight);
    if (n.bias.defined()) out.emplace_back(n.name + ".bias", n.bias);
  };
  auto add_slot = [&](const LinearSlot& s) {
    out.emplace_back(s.name + ".weight", s.base->dense_weight());
    if (s.bias.defined()) out.emplace_back(s.name + ".bias", s.bias);
  };
  const WeightNames& names = weight_names_for(config);
  out.emplace_back(names.embed, embed);
  if (pos_embed.defined()) out.emplace_back(names.pos_embed, pos_embed);
  for (const auto& layer : layers) {
    for (const Norm* n : {&layer.attn_norm, &layer.mlp_norm, &layer.attn_out_norm,
                          &layer.mlp_out_norm, &layer.q_norm, &layer.k_norm})
      add_norm(*n);
    for (const auto* s : {&layer.q, &layer.k, &layer.v, &layer.qkv, &layer.o, &layer.gate,
                          &layer.up, &layer.gate_up, &layer.down})
      if (s->has_value()) add_slot(s->value());
  }
  add_norm(final_norm);
  if (!config.tie_word_embeddings) add_slot(lm_head);
  return out;
}

at::Tensor pad_labels_for_virtual_tokens(const at::Tensor& labels, int64_t positions) {
  const int64_t extra = positions - labels.size(1);
  if (extra <= 0) return labels;
  return at::cat({at::full({labels.size(0), extra}, -100, labels.options()), labels}, 1);
}

at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels_in) {
  const int64_t t = logits.size(1);
  const at::Tensor labels = pad_labels_for_virtual_tokens(labels_in, t);
  at::Tensor shift_logits = logits.narrow(1, 0, t - 1).reshape({-1, logits.size(-1)}).to(at::kFloat);
  at::Tensor shift_labels = labels.narrow(1, 1, t - 1).reshape({-1}).to(logits.device());
  return at::cross_entropy_loss(shift_logits, shift_labels, {}, at::Reduction::Mean, -100);
}

}  // namespace axl::models
