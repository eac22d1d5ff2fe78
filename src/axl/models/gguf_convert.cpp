#include "axl/models/gguf_convert.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_dequant.h"
#include "axl/models/gguf_file.h"
#include "axl/models/gguf_tokenizer_convert.h"

namespace axl::models {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// GGUF stores hyperparameters such as 1e-5 as float32 (9.99999975e-06); config.json should
// carry the decimal transformers itself writes, so take the shortest decimal that reads back
// as the same float32. float64 values are kept as they are.
double meta_number(const GgufFile& f, const std::string& key, double fallback) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  const double d = f.get_double(key);
  if (v->type != GgufValueType::FLOAT32 || !std::isfinite(d)) return d;
  const float x = static_cast<float>(d);
  char buf[64];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(x));
    if (std::strtof(buf, nullptr) == x) return std::strtod(buf, nullptr);
  }
  return d;
}

// Inverse of llama.cpp's per-head q/k permutation: GGUF row 2j+s of each head is HF row
// s*hd/2 + j.
std::vector<float> unpermute_rows(const std::vector<float>& w, int64_t n_heads, int64_t rows,
                                  int64_t cols) {
  const int64_t hd = rows / n_heads, half = hd / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s) {
        const float* src = w.data() + (h * hd + 2 * j + s) * cols;
        std::copy(src, src + cols, out.data() + (h * hd + s * half + j) * cols);
      }
  return out;
}

// The divisors convert_hf_to_gguf writes as rope_freqs.weight for rope_type llama3.
std::vector<double> llama3_divisors(double theta, int64_t head_dim, double factor, double lo,
                                    double hi, double old_ctx) {
  const double pi = 3.14159265358979323846;
  std::vector<double> r;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double wavelen = 2 * pi * std::pow(theta, static_cast<double>(i) / static_cast<double>(head_dim));
    if (wavelen < old_ctx / hi) {
      r.push_back(1.0);
    } else if (wavelen > old_ctx / lo) {
      r.push_back(factor);
    } else {
      const double smooth = (old_ctx / wavelen - lo) / (hi - lo);
      r.push_back(1.0 / ((1.0 - smooth) / factor + smooth));
    }
  }
  return r;
}

// Llama 3 rope scaling is not stored as metadata but as those divisors. The formula depends
// on (old_ctx, low_freq_factor, high_freq_factor) only through their ratios, so with
// low_freq_factor fixed at 1 the smooth band determines the rest; any candidate is accepted
// only when it reproduces every stored divisor. `factor` is read off as the largest divisor,
// which holds when the longest wavelength is fully scaled (2*pi*theta^((hd-2)/hd) above the
// original context: true of every released Llama 3); otherwise no candidate verifies.
std::optional<json> infer_llama3_rope(const std::vector<float>& r, double theta, int64_t head_dim,
                                      const std::string& where) {
  if (static_cast<int64_t>(r.size()) * 2 != head_dim)
    throw Error(where + " has " + std::to_string(r.size()) + " entries, expected head_dim/2 = " +
                std::to_string(head_dim / 2));
  bool all_one = true;
  double factor = 0;
  for (float v : r) {
    if (!(v > 0) || !std::isfinite(v)) throw Error(where + " holds a non-positive or non-finite divisor");
    all_one = all_one && v == 1.0f;
    factor = std::max(factor, static_cast<double>(v));
  }
  if (all_one) return std::nullopt;

  std::vector<std::pair<double, double>> candidates = {{4.0, 8192.0}};  // Llama 3.1 / 3.2
  const double pi = 3.14159265358979323846;
  auto wavelen_of = [&](std::size_t i) {
    return 2 * pi * std::pow(theta, 2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
  };
  std::vector<std::pair<double, double>> band;  // (wavelen, smooth) inside the smooth band
  double w_one = 0, w_factor = INFINITY;        // longest unscaled, shortest fully scaled
  for (std::size_t i = 0; i < r.size(); ++i) {
    const double v = r[i];
    if (v > 1.0 + 1e-6 && v < factor * (1.0 - 1e-6))
      band.emplace_back(wavelen_of(i), (1.0 / v - 1.0 / factor) / (1.0 - 1.0 / factor));
    else if (v <= 1.0 + 1e-6)
      w_one = std::max(w_one, wavelen_of(i));
    else
      w_factor = std::min(w_factor, wavelen_of(i));
  }
  // With low_freq_factor = 1: smooth = old/(hi-1) / wavelen - 1/(hi-1).
  if (band.size() >= 2) {
    // Two points fix the line: a fit through the band's two ends.
    const auto& a = band.front();
    const auto& b = band.back();
    const double slope = (b.second - a.second) / (1.0 / b.first - 1.0 / a.first);
    const double icpt = a.second - slope / a.first;
    if (icpt < 0) {
      const double hi = std::round((1.0 - 1.0 / icpt) * 1000.0) / 1000.0;
      candidates.emplace_back(hi, std::round(slope * (hi - 1.0)));
    }
  } else if (band.size() == 1) {
    // One point: keep high_freq_factor 4 and solve for the context length.
    candidates.emplace_back(4.0, std::round((3.0 * band[0].second + 1.0) * band[0].first));
  } else if (w_one < w_factor && std::isfinite(w_factor)) {
    // No point in the band: any boundaries that separate the two groups give the same
    // frequencies. Take the largest power of two below the first scaled wavelength.
    double old_ctx = std::exp2(std::floor(std::log2(w_factor)));
    if (old_ctx >= w_factor) old_ctx /= 2;
    if (old_ctx > w_one) candidates.emplace_back(std::min(4.0, (1.0 + old_ctx / w_one) / 2.0), old_ctx);
  }
  for (const auto& [hi, old_ctx] : candidates) {
    auto want = llama3_divisors(theta, head_dim, factor, 1.0, hi, old_ctx);
    bool ok = true;
    for (std::size_t i = 0; i < r.size() && ok; ++i)
      ok = std::fabs(want[i] - r[i]) <= 1e-5 * std::max(1.0, want[i]);
    if (ok)
      return json{{"rope_type", "llama3"}, {"factor", static_cast<double>(static_cast<float>(factor))},
                  {"low_freq_factor", 1.0}, {"high_freq_factor", hi},
                  {"original_max_position_embeddings", static_cast<int64_t>(old_ctx)}};
  }
  throw Error(where + " does not follow the Llama 3 rope scaling formula, so config.json cannot "
              "express it; this GGUF cannot be converted");
}

// rope_scaling from metadata (linear / yarn), in the transformers 4 spelling that both
// transformers 5 and our loader read.
std::optional<json> rope_scaling_from_metadata(const GgufFile& f, int64_t ctx) {
  const std::string p = "llama.rope.";
  std::string type;
  if (f.find(p + "scaling.type")) type = f.get_string(p + "scaling.type");
  else if (f.find(p + "scale_linear")) type = "linear";  // older files
  if (type.empty() || type == "none") return std::nullopt;
  double factor = meta_number(f, p + "scaling.factor", meta_number(f, p + "scale_linear", 0.0));
  if (!(factor > 0))
    throw Error(f.path() + ": rope scaling '" + type + "' needs a positive llama.rope.scaling.factor");
  if (type == "linear") {
    if (factor == 1.0) return std::nullopt;
    return json{{"rope_type", "linear"}, {"factor", factor}};
  }
  if (type == "yarn") {
    json j = {{"rope_type", "yarn"}, {"factor", factor},
              {"original_max_position_embeddings",
               f.get_int_or(p + "scaling.original_context_length", ctx)}};
    if (f.find(p + "scaling.yarn_beta_fast")) j["beta_fast"] = meta_number(f, p + "scaling.yarn_beta_fast", 0);
    if (f.find(p + "scaling.yarn_beta_slow")) j["beta_slow"] = meta_number(f, p + "scaling.yarn_beta_slow", 0);
    return j;
  }
  throw Error(f.path() + ": rope scaling type '" + type + "' (llama.rope.scaling.type) is not "
              "supported; expected none, linear or yarn");
}

struct Target {
  std::string hf_name;
  std::vector<int64_t> shape;  // row-major
  int64_t permute_heads = 0;   // q/k: heads to unpermute over
  bool required = true;
};

}  // namespace

std::vector<std::string> convert_gguf(const std::string& input, const std::string& out_dir) {
  if (out_dir.empty()) throw Error("convert gguf: --out is required");
  auto f = GgufFile::open(input);
  const std::string& src = f->path();
  const std::string arch = f->get_string("general.architecture");
  if (arch != "llama")
    throw Error(src + ": general.architecture is '" + arch +
                "'; only 'llama' GGUF files can be converted for now");

  const std::string p = "llama.";
  auto positive = [&](const std::string& key, int64_t v) {
    if (v <= 0) throw Error(src + ": metadata key '" + key + "' must be positive, got " + std::to_string(v));
    return v;
  };
  const int64_t L = positive(p + "block_count", f->get_int(p + "block_count"));
  const int64_t D = positive(p + "embedding_length", f->get_int(p + "embedding_length"));
  const int64_t F = positive(p + "feed_forward_length", f->get_int(p + "feed_forward_length"));
  const int64_t H = positive(p + "attention.head_count", f->get_int(p + "attention.head_count"));
  const int64_t KVH = positive(p + "attention.head_count_kv", f->get_int_or(p + "attention.head_count_kv", H));
  if (!f->find(p + "attention.key_length") && D % H != 0)
    throw Error(src + ": embedding_length " + std::to_string(D) + " is not a multiple of head_count " +
                std::to_string(H) + " and llama.attention.key_length is absent");
  const int64_t HD = positive(p + "attention.key_length", f->get_int_or(p + "attention.key_length", D / H));
  if (f->get_int_or(p + "attention.value_length", HD) != HD)
    throw Error(src + ": llama.attention.value_length differs from key_length; Hugging Face Llama "
                "needs one head_dim");
  if (f->get_int_or(p + "rope.dimension_count", HD) != HD)
    throw Error(src + ": llama.rope.dimension_count " +
                std::to_string(f->get_int(p + "rope.dimension_count")) + " differs from head_dim " +
                std::to_string(HD) + " (partial rotary Llama is not supported)");
  if (H % KVH != 0 || HD % 2 != 0)
    throw Error(src + ": head_count " + std::to_string(H) + ", head_count_kv " + std::to_string(KVH) +
                " and head_dim " + std::to_string(HD) + " are inconsistent");
  const int64_t ctx = positive(p + "context_length", f->get_int(p + "context_length"));
  if (!f->find(p + "attention.layer_norm_rms_epsilon"))
    throw Error(src + ": metadata key 'llama.attention.layer_norm_rms_epsilon' is missing");
  const double eps = meta_number(*f, p + "attention.layer_norm_rms_epsilon", 0);
  const double theta = meta_number(*f, p + "rope.freq_base", 10000.0);

  const GgufTensorInfo& embd = f->tensor("token_embd.weight");
  const auto embd_shape = embd.shape();
  if (embd_shape.size() != 2 || embd_shape[1] != D)
    throw Error(src + ": tensor 'token_embd.weight' has shape " + shape_string(embd_shape) +
                ", expected [vocab, " + std::to_string(D) + "]");
  const int64_t V = f->get_int_or(p + "vocab_size", embd_shape[0]);
  if (V != embd_shape[0])
    throw Error(src + ": llama.vocab_size " + std::to_string(V) + " differs from token_embd rows " +
                std::to_string(embd_shape[0]));

  std::map<std::string, Target> targets = {
      {"token_embd.weight", {"model.embed_tokens.weight", {V, D}}},
      {"output_norm.weight", {"model.norm.weight", {D}}},
      {"output.weight", {"lm_head.weight", {V, D}, 0, false}},
  };
  for (int64_t l = 0; l < L; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".", h = "model.layers." + std::to_string(l) + ".";
    targets[g + "attn_norm.weight"] = {h + "input_layernorm.weight", {D}};
    targets[g + "attn_q.weight"] = {h + "self_attn.q_proj.weight", {H * HD, D}, H};
    targets[g + "attn_k.weight"] = {h + "self_attn.k_proj.weight", {KVH * HD, D}, KVH};
    targets[g + "attn_v.weight"] = {h + "self_attn.v_proj.weight", {KVH * HD, D}};
    targets[g + "attn_output.weight"] = {h + "self_attn.o_proj.weight", {D, H * HD}};
    targets[g + "ffn_norm.weight"] = {h + "post_attention_layernorm.weight", {D}};
    targets[g + "ffn_gate.weight"] = {h + "mlp.gate_proj.weight", {F, D}};
    targets[g + "ffn_up.weight"] = {h + "mlp.up_proj.weight", {F, D}};
    targets[g + "ffn_down.weight"] = {h + "mlp.down_proj.weight", {D, F}};
  }

  // The tokenizer is checked before the (slow) weights are converted, and written after them.
  const std::optional<HfTokenizerFiles> tokenizer = hf_tokenizer_from_gguf(*f);

  std::optional<json> rope_scaling = rope_scaling_from_metadata(*f, ctx);
  std::vector<std::vector<float>> keep;  // owns the float32 data until it is written
  keep.reserve(f->tensors().size());
  std::vector<TensorToWrite> items;
  std::set<std::string> seen;
  for (const GgufTensorInfo& t : f->tensors()) {
    if (t.name == "rope_freqs.weight") {
      auto llama3 = infer_llama3_rope(dequantize_tensor(*f, t), theta, HD, src + ": tensor 'rope_freqs.weight'");
      if (llama3) {
        if (rope_scaling)
          throw Error(src + ": both rope_freqs.weight and llama.rope.scaling.type are set; "
                      "cannot tell which rope scaling applies");
        rope_scaling = llama3;
      }
      continue;
    }
    auto it = targets.find(t.name);
    if (it == targets.end())
      throw Error(src + ": tensor '" + t.name + "' has no Hugging Face Llama equivalent (biases, "
                  "mixture-of-experts and other extensions are not supported)");
    const Target& tg = it->second;
    if (t.shape() != tg.shape)
      throw Error(src + ": tensor '" + t.name + "' has shape " + shape_string(t.shape()) + ", expected " +
                  shape_string(tg.shape) + " from the metadata");
    std::vector<float> w = dequantize_tensor(*f, t);
    if (tg.permute_heads) w = unpermute_rows(w, tg.permute_heads, tg.shape[0], tg.shape[1]);
    keep.push_back(std::move(w));
    items.push_back({tg.hf_name, DType::F32, tg.shape, keep.back().data(), keep.back().size() * sizeof(float)});
    seen.insert(t.name);
  }
  for (const auto& [name, tg] : targets)
    if (tg.required && !seen.count(name)) throw Error(src + ": tensor '" + name + "' is missing");
  const bool tied = !seen.count("output.weight");

  auto token_id = [&](const std::string& key) -> json {
    if (!f->find(key)) return nullptr;
    return f->get_int(key);
  };
  const json bos = token_id("tokenizer.ggml.bos_token_id");
  const json eos = token_id("tokenizer.ggml.eos_token_id");
  const json pad = token_id("tokenizer.ggml.padding_token_id");

  json config = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
      {"hidden_size", D}, {"intermediate_size", F}, {"num_hidden_layers", L},
      {"num_attention_heads", H}, {"num_key_value_heads", KVH}, {"head_dim", HD},
      {"vocab_size", V}, {"max_position_embeddings", ctx}, {"rms_norm_eps", eps},
      {"rope_theta", theta}, {"hidden_act", "silu"}, {"tie_word_embeddings", tied},
      {"attention_bias", false}, {"mlp_bias", false}, {"bos_token_id", bos}, {"eos_token_id", eos},
      {"torch_dtype", "float32"}, {"initializer_range", 0.02}, {"use_cache", true}};
  if (!pad.is_null()) config["pad_token_id"] = pad;
  if (rope_scaling) config["rope_scaling"] = *rope_scaling;
  json gen = json::object();
  if (!bos.is_null()) gen["bos_token_id"] = bos;
  if (!eos.is_null()) gen["eos_token_id"] = eos;
  if (!pad.is_null()) gen["pad_token_id"] = pad;

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error(out_dir + ": cannot create folder: " + ec.message());
  const fs::path out(out_dir);
  write_safetensors((out / "model.safetensors").string(), items, {{"format", "pt"}});
  write_file_atomic((out / "generation_config.json").string(), gen.dump(2) + "\n");
  write_file_atomic((out / "config.json").string(), config.dump(2) + "\n");
  if (!tokenizer) return {src + " has no tokenizer (no tokenizer.ggml.* metadata); no tokenizer files written"};
  return write_hf_tokenizer_files(*tokenizer, out_dir);
}

}  // namespace axl::models
