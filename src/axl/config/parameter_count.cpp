#include "axl/config/parameter_count.h"

#include <algorithm>
#include <regex>
#include <set>

#include "axl/core/error.h"

namespace axl::config {

namespace {

std::string last_component(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// PEFT's rule for a list of names: the module name equals the target or ends with ".target".
bool matches_name(const std::string& module, const std::string& target) {
  if (module == target) return true;
  return module.size() > target.size() &&
         module.compare(module.size() - target.size(), target.size(), target) == 0 &&
         module[module.size() - target.size() - 1] == '.';
}

int64_t norm_params(const models::ModelConfig& m) {
  return m.norm == models::NormKind::LayerNorm ? 2 * m.hidden_size : m.hidden_size;
}

}  // namespace

std::vector<LinearLayer> linear_layers(const models::ModelConfig& m) {
  std::vector<LinearLayer> out;
  const int64_t h = m.hidden_size, q = m.num_heads * m.head_dim, kv = m.num_kv_heads * m.head_dim;
  const int64_t ff = m.intermediate_size;
  for (int64_t l = 0; l < m.num_layers; ++l) {
    if (m.is_gpt2()) {
      const std::string p = "transformer.h." + std::to_string(l) + ".";
      out.push_back({p + "attn.c_attn", h, 3 * h, true});
      out.push_back({p + "attn.c_proj", h, h, true});
      out.push_back({p + "mlp.c_fc", h, ff, true});
      out.push_back({p + "mlp.c_proj", ff, h, true});
      continue;
    }
    const std::string p = "model.layers." + std::to_string(l) + ".";
    if (m.fused_qkv) {
      out.push_back({p + "self_attn.qkv_proj", h, q + 2 * kv, m.qkv_bias});
    } else {
      out.push_back({p + "self_attn.q_proj", h, q, m.qkv_bias});
      out.push_back({p + "self_attn.k_proj", h, kv, m.qkv_bias});
      out.push_back({p + "self_attn.v_proj", h, kv, m.qkv_bias});
    }
    out.push_back({p + "self_attn.o_proj", q, h, m.o_bias});
    if (m.fused_gate_up) {
      out.push_back({p + "mlp.gate_up_proj", h, 2 * ff, m.mlp_bias});
    } else {
      out.push_back({p + "mlp.gate_proj", h, ff, m.mlp_bias});
      out.push_back({p + "mlp.up_proj", h, ff, m.mlp_bias});
    }
    out.push_back({p + "mlp.down_proj", ff, h, m.mlp_bias});
  }
  if (!m.tie_word_embeddings) out.push_back({"lm_head", h, m.vocab_size, false});
  return out;
}

ParameterCount count_parameters(const models::ModelConfig& m, const Config& cfg, const std::string& where) {
  ParameterCount c;
  const auto linears = linear_layers(m);
  const int64_t embed = m.vocab_size * m.hidden_size;
  c.total = embed;
  if (m.learned_positions) c.total += m.max_position_embeddings * m.hidden_size;
  for (const auto& l : linears) c.total += l.in * l.out + (l.bias ? l.out : 0);
  // Norms: two per layer (four with Gemma 2's sandwich norms), Qwen3's q/k norms, the final one.
  const int64_t per_layer_norms = (m.sandwich_norms ? 4 : 2) * norm_params(m) + (m.qk_norm ? 2 * m.head_dim : 0);
  c.total += m.num_layers * per_layer_norms + norm_params(m);

  if (cfg.adapter.empty()) {
    c.trainable = c.total;
    return c;
  }
  // Only the LoRA family is counted from shapes; the other methods count when they attach.
  if (cfg.adapter != "lora" && cfg.adapter != "qlora" && cfg.adapter != "dora") return c;

  std::set<std::string> short_names;
  std::optional<std::regex> re;
  if (cfg.lora_target_regex) {
    try {
      re.emplace(*cfg.lora_target_regex);
    } catch (const std::regex_error&) {
      throw Error(where + ": lora_target_modules: '" + *cfg.lora_target_regex +
                  "' is not a valid regular expression; give a list of module names instead");
    }
  }
  for (const auto& l : linears) {
    bool hit = false;
    if (cfg.lora_target_linear && l.name != "lm_head") hit = true;  // every linear but the head
    for (const auto& t : cfg.lora_target_modules) hit = hit || matches_name(l.name, t);
    if (re) hit = hit || std::regex_match(l.name, *re);
    if (!hit) continue;
    c.adapter += cfg.lora_r * (l.in + l.out) + (cfg.peft_use_dora || cfg.adapter == "dora" ? l.out : 0);
    c.targeted_layers += 1;
    short_names.insert(last_component(l.name));
  }
  if (c.targeted_layers == 0) {
    std::set<std::string> available;
    for (const auto& l : linears) available.insert(last_component(l.name));
    std::string list;
    for (const auto& a : available) list += (list.empty() ? "" : ", ") + a;
    throw Error(where + ": lora_target_modules matches no linear layer of this " + m.model_type +
                " model; its linear layers are " + list + " (or set lora_target_linear: true)");
  }
  c.targeted.assign(short_names.begin(), short_names.end());
  // modules_to_save: PEFT trains a full copy of each named module.
  int64_t saved = 0;
  for (const auto& name : cfg.lora_modules_to_save) {
    if (name == "embed_tokens" || name == "wte") {
      saved += embed;
    } else if (name == "lm_head") {
      saved += m.tie_word_embeddings ? embed : m.hidden_size * m.vocab_size;
    } else {
      bool found = false;
      for (const auto& l : linears)
        if (matches_name(l.name, name)) saved += l.in * l.out + (l.bias ? l.out : 0), found = true;
      if (!found)
        throw Error(where + ": lora_modules_to_save: '" + name +
                    "' names no module of this model; use embed_tokens, lm_head or a linear layer name");
    }
  }
  c.trainable = c.adapter + saved;
  return c;
}

}  // namespace axl::config
