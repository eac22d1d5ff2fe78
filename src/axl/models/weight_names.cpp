#include "axl/models/weight_names.h"

namespace axl::models {

namespace {

WeightNames llama_like() {
  WeightNames n;
  n.embed = "model.embed_tokens.weight";
  n.final_norm = "model.norm";
  n.lm_head = "lm_head";
  n.layer_prefix = "model.layers.";
  n.q = "self_attn.q_proj";
  n.k = "self_attn.k_proj";
  n.v = "self_attn.v_proj";
  n.o = "self_attn.o_proj";
  n.gate = "mlp.gate_proj";
  n.up = "mlp.up_proj";
  n.down = "mlp.down_proj";
  n.attn_norm = "input_layernorm";
  n.mlp_norm = "post_attention_layernorm";
  n.q_norm = "self_attn.q_norm";
  n.k_norm = "self_attn.k_norm";
  return n;
}

WeightNames phi3() {
  WeightNames n = llama_like();
  n.q = n.k = n.v = n.gate = n.up = "";
  n.qkv = "self_attn.qkv_proj";
  n.gate_up = "mlp.gate_up_proj";
  return n;
}

WeightNames gemma2() {
  WeightNames n = llama_like();
  n.attn_out_norm = "post_attention_layernorm";
  n.mlp_norm = "pre_feedforward_layernorm";
  n.mlp_out_norm = "post_feedforward_layernorm";
  return n;
}

WeightNames gpt2() {
  WeightNames n;
  n.embed = "transformer.wte.weight";
  n.pos_embed = "transformer.wpe.weight";
  n.final_norm = "transformer.ln_f";
  n.lm_head = "lm_head";
  n.layer_prefix = "transformer.h.";
  n.qkv = "attn.c_attn";
  n.o = "attn.c_proj";
  n.up = "mlp.c_fc";
  n.down = "mlp.c_proj";
  n.attn_norm = "ln_1";
  n.mlp_norm = "ln_2";
  n.conv1d = true;
  return n;
}

}  // namespace

const WeightNames& weight_names_for(const ModelConfig& cfg) {
  static const WeightNames kLlama = llama_like(), kPhi3 = phi3(), kGemma2 = gemma2(),
                           kGpt2 = gpt2();
  if (cfg.model_type == "phi3") return kPhi3;
  if (cfg.model_type == "gemma2") return kGemma2;
  if (cfg.model_type == "gpt2") return kGpt2;
  return kLlama;
}

}  // namespace axl::models
