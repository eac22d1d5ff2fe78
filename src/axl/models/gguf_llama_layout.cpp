#include "axl/models/gguf_llama_layout.h"

#include <cstring>
#include <regex>

#include "axl/core/error.h"
#include "axl/models/gguf_dequant.h"

namespace axl::models {

std::optional<std::string> gguf_llama_tensor_name(const std::string& hf_name) {
  static const std::vector<std::pair<std::string, std::string>> fixed = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  for (const auto& [hf, gg] : fixed)
    if (hf_name == hf) return gg;
  static const std::vector<std::pair<std::string, std::string>> per_layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(hf_name, m, layer)) return std::nullopt;
  for (const auto& [hf, gg] : per_layer)
    if (m[2] == hf) return "blk." + m[1].str() + "." + gg;
  return std::nullopt;
}

int64_t gguf_llama_permute_heads(const std::string& hf_name, const ModelConfig& c) {
  auto ends_with = [&](const std::string& s) {
    return hf_name.size() >= s.size() && hf_name.compare(hf_name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".self_attn.q_proj.weight")) return c.num_heads;
  if (ends_with(".self_attn.k_proj.weight")) return c.num_kv_heads;
  return 0;
}

std::vector<float> permute_qk_rows(const std::vector<float>& w, int64_t n_heads, int64_t rows, int64_t cols) {
  const int64_t hd = rows / n_heads, half = hd / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s) {
        const float* src = w.data() + (h * hd + s * half + j) * cols;
        std::copy(src, src + cols, out.data() + (h * hd + 2 * j + s) * cols);
      }
  return out;
}

ModelConfig gguf_llama_family_config(const std::string& model_dir, std::vector<std::string>& notes) {
  const ModelConfig c = load_model_config(model_dir);
  const std::string where = model_dir + "/config.json";
  if (c.model_type != "llama" && c.model_type != "mistral")
    throw Error(where + ": model_type '" + c.model_type + "' cannot be exported to GGUF yet; export supports the "
                "Llama family (model_type llama or mistral), which llama.cpp runs as its 'llama' architecture");
  std::string why;
  if (c.qkv_bias || c.o_bias || c.mlp_bias) why = "attention or MLP biases";
  else if (c.fused_qkv || c.fused_gate_up || c.qk_norm || c.sandwich_norms || c.scale_embeddings) why = "a non-Llama layer layout";
  else if (c.norm != NormKind::RMS || c.activation != "silu" || !c.gated_mlp) why = "a norm or activation other than RMSNorm/SiLU";
  else if (c.rope.partial_rotary_factor != 1.0) why = "partial rotary embeddings";
  else if (c.rope.type != "default" && c.rope.type != "linear") why = "rope_scaling type '" + c.rope.type + "'";
  else if (c.head_dim % 2 != 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) why = "inconsistent head counts";
  if (!why.empty()) throw Error(where + ": " + why + " cannot be exported to GGUF yet");
  if (c.sliding_window)
    notes.push_back(where + ": sliding_window " + std::to_string(*c.sliding_window) + " is not written (llama.cpp's "
                    "llama architecture attends to the whole context; identical up to that many tokens)");
  return c;
}

std::vector<float> tensor_as_f32(const TensorView& t, const std::string& where) {
  const int64_t n = t.info->numel();
  std::vector<float> out(static_cast<std::size_t>(n));
  switch (t.info->dtype) {
    case DType::F32:
      std::memcpy(out.data(), t.data, static_cast<std::size_t>(n) * 4);
      break;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        std::memcpy(&out[i], &u, 4);
      }
      break;
    default:
      throw Error(where + " is " + dtype_name(t.info->dtype) + "; only float32, float16 and bfloat16 weights can be "
                  "exported (dequantize or merge a quantized model first)");
  }
  return out;
}

}  // namespace axl::models
