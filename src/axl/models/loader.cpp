#include "axl/models/loader.h"


#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/safetensors.h"
#include "axl/core/tensor_io.h"
#include "axl/core/torch_compat.h"
#include "axl/kernels/rope.h"
#include "axl/models/weight_names.h"

namespace axl::models {

namespace {

struct Builder {
  const ModelConfig& cfg;
  const TensorSource& source;
  const LoadOptions& opts;
  const WeightNames& names;

  at::Tensor get(const std::string& name, at::IntArrayRef shape) const {
    at::Tensor t = source(name, shape);
    if (t.sizes() != shape)
      throw Error(name + ": checkpoint has shape " + shape_string(t.sizes()) + " but config.json implies " +
                  shape_string(shape));
    return t;
  }

  LinearSlot slot(const std::string& module, int64_t out, int64_t in, bool has_bias) const {
    LinearSlot s;
    s.name = module;
    s.base = std::make_shared<DenseBase>(get(module + ".weight", {out, in}));
    if (has_bias) s.bias = get(module + ".bias", {out});
    return s;
  }

  Norm norm(const std::string& module, int64_t dim) const {
    Norm n;
    n.name = module;
    n.kind = cfg.norm;
    n.eps = cfg.norm_eps;
    n.weight = get(module + ".weight", {dim});
    if (cfg.norm == NormKind::LayerNorm) n.bias = get(module + ".bias", {dim});
    return n;
  }

  DecoderLayer layer(int64_t i) const {
    const std::string p = names.layer_prefix + std::to_string(i) + ".";
    const int64_t h = cfg.hidden_size, d = cfg.head_dim;
    const int64_t nq = cfg.num_heads * d, nkv = cfg.num_kv_heads * d, ff = cfg.intermediate_size;
    DecoderLayer l;
    if (cfg.fused_qkv) {
      l.qkv = slot(p + names.qkv, nq + 2 * nkv, h, cfg.qkv_bias);
    } else {
      l.q = slot(p + names.q, nq, h, cfg.qkv_bias);
      l.k = slot(p + names.k, nkv, h, cfg.qkv_bias);
      l.v = slot(p + names.v, nkv, h, cfg.qkv_bias);
    }
    l.o = slot(p + names.o, h, nq, cfg.o_bias);
    if (cfg.fused_gate_up) {
      l.gate_up = slot(p + names.gate_up, 2 * ff, h, cfg.mlp_bias);
    } else {
      if (cfg.gated_mlp) l.gate = slot(p + names.gate, ff, h, cfg.mlp_bias);
      l.up = slot(p + names.up, ff, h, cfg.mlp_bias);
    }
    l.down = slot(p + names.down, h, ff, cfg.mlp_bias);
    l.attn_norm = norm(p + names.attn_norm, h);
    l.mlp_norm = norm(p + names.mlp_norm, h);
    if (cfg.sandwich_norms) {
      l.attn_out_norm = norm(p + names.attn_out_norm, h);
      l.mlp_out_norm = norm(p + names.mlp_out_norm, h);
    }
    if (cfg.qk_norm) {
      l.q_norm = norm(p + names.q_norm, d);
      l.k_norm = norm(p + names.k_norm, d);
    }
    l.sliding = cfg.layer_sliding.empty() ? false : cfg.layer_sliding[static_cast<std::size_t>(i)];
    return l;
  }
};

}  // namespace

CausalLM build_causal_lm(const ModelConfig& cfg, const TensorSource& source, const LoadOptions& opts) {
  const WeightNames& names = weight_names_for(cfg);
  Builder b{cfg, source, opts, names};
  CausalLM m;
  m.config = cfg;
  m.embed = b.get(names.embed, {cfg.vocab_size, cfg.hidden_size});
  if (cfg.learned_positions) m.pos_embed = b.get(names.pos_embed, {cfg.max_position_embeddings, cfg.hidden_size});
  for (int64_t i = 0; i < cfg.num_layers; ++i) m.layers.push_back(b.layer(i));
  m.final_norm = b.norm(names.final_norm, cfg.hidden_size);
  if (cfg.tie_word_embeddings) {
    m.lm_head.name = names.lm_head;
    m.lm_head.base = std::make_shared<DenseBase>(m.embed);
  } else {
    m.lm_head = b.slot(names.lm_head, cfg.vocab_size, cfg.hidden_size, false);
  }
  if (!cfg.learned_positions)
    m.inv_freq = kernels::rope_inv_freq(cfg.rope, cfg.rotary_dim(), cfg.max_position_embeddings,
                                        0, opts.device);
  return m;
}

static QuantizedCheckpointLoader& quantized_checkpoint_loader() {
  static QuantizedCheckpointLoader loader;
  return loader;
}

void set_quantized_checkpoint_loader(QuantizedCheckpointLoader loader) {
  quantized_checkpoint_loader() = std::move(loader);
}

CausalLM load_causal_lm(const std::string& model_dir, const LoadOptions& opts) {
  if (const auto& quantized = quantized_checkpoint_loader())
    if (std::optional<CausalLM> m = quantized(model_dir, opts)) return std::move(*m);
  ModelConfig cfg = load_model_config(model_dir);
  Checkpoint ckpt = Checkpoint::open(model_dir);
  const WeightNames& names = weight_names_for(cfg);
  // Original GPT-2 checkpoints lack the "transformer." prefix that save_pretrained adds.
  std::string strip;
  if (cfg.is_gpt2() && !ckpt.contains(names.embed) && ckpt.contains("wte.weight")) strip = "transformer.";

  TensorSource source = [&](const std::string& name, at::IntArrayRef shape) {
    std::string key = name;
    if (!strip.empty() && key.rfind(strip, 0) == 0) key = key.substr(strip.size());
    if (!ckpt.contains(key))
      throw Error(ckpt.source() + ": missing tensor '" + key + "' (needed by model_type " +
                  cfg.model_type + ")");
    at::Tensor t = tensor_from_view(ckpt.get(key));
    bool conv1d = names.conv1d && t.dim() == 2 && key.find(".h.") != std::string::npos;
    if (conv1d) {
      if (t.size(0) != shape[1] || t.size(1) != shape[0])
        throw Error(key + ": Conv1D weight has shape [" + std::to_string(t.size(0)) + ", " +
                    std::to_string(t.size(1)) + "], expected the transpose of [" +
                    std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + "]");
      t = t.t();
    }
    if (!t.is_floating_point())
      throw Error(key + ": expected a floating-point tensor, found " + c10::toString(t.scalar_type()));
    at::Tensor out = t.to(opts.device, opts.dtype).contiguous();
    if (opts.writable && out.data_ptr() == t.data_ptr()) out = out.clone();
    return out;
  };
  return build_causal_lm(cfg, source, opts);
}

CausalLM random_causal_lm(const ModelConfig& cfg, const LoadOptions& opts, uint64_t seed, double std) {
  at::Generator gen = compat::make_cpu_generator(seed);
  const bool meta = opts.device.is_meta();
  TensorSource source = [&](const std::string& name, at::IntArrayRef shape) {
    auto o = at::TensorOptions().dtype(opts.dtype).device(opts.device);
    if (meta) return at::empty(shape, o);
    bool is_norm = name.find("norm") != std::string::npos || name.find("ln_") != std::string::npos;
    at::Tensor t;
    if (is_norm) {
      bool bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
      t = (cfg.norm == NormKind::RMSPlusOne || bias) ? at::zeros(shape, at::kFloat) : at::ones(shape, at::kFloat);
    } else {
      t = at::empty(shape, at::kFloat);
      t.normal_(0.0, std, gen);
    }
    return t.to(o);
  };
  return build_causal_lm(cfg, source, opts);
}

}  // namespace axl::models
