#include "axl/models/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::models {

using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  const std::string& source;

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
  int64_t int_at(const char* key) const {
    if (!has(key)) throw Error(source + ": missing required field '" + key + "'");
    if (!j[key].is_number_integer())
      throw Error(source + ": field '" + key + "' must be an integer");
    return j[key].get<int64_t>();
  }
  int64_t int_or(const char* key, int64_t dflt) const { return has(key) ? int_at(key) : dflt; }
  double num_or(const char* key, double dflt) const {
    if (!has(key)) return dflt;
    if (!j[key].is_number()) throw Error(source + ": field '" + key + "' must be a number");
    return j[key].get<double>();
  }
  bool bool_or(const char* key, bool dflt) const {
    if (!has(key)) return dflt;
    if (!j[key].is_boolean()) throw Error(source + ": field '" + key + "' must be true or false");
    return j[key].get<bool>();
  }
  std::string str_or(const char* key, const std::string& dflt) const {
    if (!has(key)) return dflt;
    if (!j[key].is_string()) throw Error(source + ": field '" + key + "' must be a string");
    return j[key].get<std::string>();
  }
};

std::vector<int64_t> id_list(const json& v) {
  std::vector<int64_t> out;
  if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_number_integer()) out.push_back(x.get<int64_t>());
  return out;
}

// transformers 4 writes rope_theta + rope_scaling; transformers 5 writes rope_parameters
// (which holds rope_theta too). Both are read.
RopeConfig parse_rope(const Reader& r, double default_theta) {
  RopeConfig rope;
  rope.theta = r.num_or("rope_theta", default_theta);
  rope.partial_rotary_factor = r.num_or("partial_rotary_factor", 1.0);
  const json* scaling = nullptr;
  if (r.has("rope_parameters") && r.j["rope_parameters"].is_object())
    scaling = &r.j["rope_parameters"];
  else if (r.has("rope_scaling") && r.j["rope_scaling"].is_object())
    scaling = &r.j["rope_scaling"];
  if (!scaling) return rope;
  Reader s{*scaling, r.source};
  if (s.has("rope_theta")) rope.theta = s.num_or("rope_theta", rope.theta);
  if (s.has("partial_rotary_factor"))
    rope.partial_rotary_factor = s.num_or("partial_rotary_factor", 1.0);
  rope.type = s.str_or("rope_type", s.str_or("type", "default"));
  rope.factor = s.num_or("factor", 1.0);
  rope.low_freq_factor = s.num_or("low_freq_factor", 1.0);
  rope.high_freq_factor = s.num_or("high_freq_factor", 4.0);
  rope.original_max_position_embeddings = s.int_or("original_max_position_embeddings", 0);
  if (rope.type != "default" && rope.type != "linear" && rope.type != "dynamic" &&
      rope.type != "llama3")
    throw Error(r.source + ": rope scaling type '" + rope.type +
                "' is not supported (supported: default, linear, dynamic, llama3)");
  if (rope.type != "default" && !(rope.factor > 0))
    throw Error(r.source + ": rope scaling factor must be positive");
  return rope;
}

void parse_gpt2(const Reader& r, ModelConfig& c) {
  c.vocab_size = r.int_at("vocab_size");
  c.hidden_size = r.int_at("n_embd");
  c.num_layers = r.int_at("n_layer");
  c.num_heads = r.int_at("n_head");
  c.num_kv_heads = c.num_heads;
  c.intermediate_size = r.int_or("n_inner", 4 * c.hidden_size);
  c.max_position_embeddings = r.int_or("n_positions", 1024);
  c.norm_eps = r.num_or("layer_norm_epsilon", 1e-5);
  c.norm = NormKind::LayerNorm;
  c.activation = r.str_or("activation_function", "gelu_new");
  c.gated_mlp = false;
  c.tie_word_embeddings = r.bool_or("tie_word_embeddings", true);
  c.qkv_bias = c.o_bias = c.mlp_bias = true;
  c.fused_qkv = true;
  c.learned_positions = true;
  if (r.bool_or("scale_attn_by_inverse_layer_idx", false))
    throw Error(r.source + ": scale_attn_by_inverse_layer_idx is not supported");
  if (!r.bool_or("scale_attn_weights", true)) c.attn_scale = 1.0;
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(source + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(source + ": config must be a JSON object");
  Reader r{j, source};
  ModelConfig c;
  c.model_type = r.str_or("model_type", "");
  const std::string& t = c.model_type;
  static const char* kSupported = "llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2";
  if (t.empty()) throw Error(source + ": no model_type (supported: " + std::string(kSupported) + ")");
  if (t != "llama" && t != "mistral" && t != "qwen2" && t != "qwen3" && t != "gemma" &&
      t != "gemma2" && t != "phi3" && t != "gpt2")
    throw Error(source + ": model_type '" + t + "' is not supported (supported: " + kSupported + ")");

  c.bos_token_id = r.has("bos_token_id") && j["bos_token_id"].is_number_integer()
                       ? j["bos_token_id"].get<int64_t>() : -1;
  if (r.has("eos_token_id")) c.eos_token_ids = id_list(j["eos_token_id"]);
  if (r.has("pad_token_id") && j["pad_token_id"].is_number_integer())
    c.pad_token_id = j["pad_token_id"].get<int64_t>();
  c.torch_dtype = r.str_or("torch_dtype", r.str_or("dtype", "float32"));

  if (t == "gpt2") {
    parse_gpt2(r, c);
  } else {
    c.vocab_size = r.int_at("vocab_size");
    c.hidden_size = r.int_at("hidden_size");
    c.intermediate_size = r.int_at("intermediate_size");
    c.num_layers = r.int_at("num_hidden_layers");
    c.num_heads = r.int_at("num_attention_heads");
    c.num_kv_heads = r.int_or("num_key_value_heads", c.num_heads);
    c.max_position_embeddings = r.int_or("max_position_embeddings", 2048);
    c.norm_eps = r.num_or("rms_norm_eps", 1e-6);
    c.tie_word_embeddings = r.bool_or("tie_word_embeddings", t == "gemma" || t == "gemma2");
    c.rope = parse_rope(r, 10000.0);
    c.activation = r.str_or("hidden_act", "silu");
    bool attention_bias = r.bool_or("attention_bias", false);
    c.qkv_bias = attention_bias;
    c.o_bias = attention_bias;
    c.mlp_bias = r.bool_or("mlp_bias", false);
    if (t == "qwen2") c.qkv_bias = true, c.o_bias = false;
    if (t == "qwen3") c.qk_norm = true;
    if (t == "phi3") c.fused_qkv = c.fused_gate_up = true;
    if (t == "gemma" || t == "gemma2") {
      c.norm = NormKind::RMSPlusOne;
      c.scale_embeddings = true;
      // Gemma's real configs say hidden_act "gelu" but transformers uses hidden_activation.
      c.activation = r.str_or("hidden_activation", "gelu_pytorch_tanh");
    }
    if (t == "gemma2") {
      c.sandwich_norms = true;
      c.attn_softcap = r.num_or("attn_logit_softcapping", 0.0);
      c.final_softcap = r.num_or("final_logit_softcapping", 0.0);
    }
    if (t == "mistral" || t == "phi3" || t == "gemma2" ||
        ((t == "qwen2" || t == "qwen3") && r.bool_or("use_sliding_window", false))) {
      if (r.has("sliding_window")) c.sliding_window = r.int_at("sliding_window");
    }
  }
  if (c.num_heads <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.vocab_size <= 0)
    throw Error(source + ": sizes must be positive");
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
    throw Error(source + ": num_attention_heads (" + std::to_string(c.num_heads) +
                ") must be a multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  c.head_dim = r.int_or("head_dim", c.hidden_size / c.num_heads);
  if (c.head_dim <= 0) throw Error(source + ": head_dim must be positive");
  if (t == "gemma2")
    c.attn_scale = 1.0 / std::sqrt(r.num_or("query_pre_attn_scalar", static_cast<double>(c.head_dim)));
  if (c.activation != "silu" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu_new" &&
      c.activation != "gelu" && c.activation != "gelu_fast" && c.activation != "relu")
    throw Error(source + ": activation '" + c.activation + "' is not supported");

  // Which layers use the sliding window: transformers 5 writes layer_types; before that it
  // was a per-family rule.
  c.layer_sliding.assign(static_cast<std::size_t>(c.num_layers), false);
  if (c.sliding_window) {
    if (r.has("layer_types") && j["layer_types"].is_array() &&
        j["layer_types"].size() == static_cast<std::size_t>(c.num_layers)) {
      for (std::size_t i = 0; i < c.layer_sliding.size(); ++i)
        c.layer_sliding[i] = j["layer_types"][i] == "sliding_attention";
    } else if (t == "gemma2") {
      for (std::size_t i = 0; i < c.layer_sliding.size(); ++i) c.layer_sliding[i] = (i % 2 == 0);
    } else if (t == "qwen2" || t == "qwen3") {
      int64_t first = r.int_or("max_window_layers", 0);
      for (std::size_t i = 0; i < c.layer_sliding.size(); ++i)
        c.layer_sliding[i] = static_cast<int64_t>(i) >= first;
    } else {
      c.layer_sliding.assign(c.layer_sliding.size(), true);
    }
  }
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  std::string path = model_dir + "/config.json";
  return parse_model_config(read_json_file(path).dump(), path);
}

}  // namespace axl::models
