#include "axl/models/hf_to_gguf.h"

#include <filesystem>
#include <memory>
#include <set>

#include "axl/core/error.h"
#include "axl/core/shape_string.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_llama_layout.h"
#include "axl/models/gguf_quantize.h"
#include "axl/models/gguf_vocab.h"
#include "axl/models/gguf_writer.h"

namespace axl::models {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QUANT_VERSION

std::string folder_name(const std::string& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

// The shape config.json implies for an HF weight, to reject a checkpoint that does not match.
std::vector<int64_t> expected_shape(const std::string& gguf_name, const ModelConfig& c) {
  const int64_t D = c.hidden_size, F = c.intermediate_size, V = c.vocab_size, HD = c.head_dim;
  auto ends = [&](const char* s) {
    const std::string suf(s);
    return gguf_name.size() >= suf.size() && gguf_name.compare(gguf_name.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (gguf_name == "token_embd.weight" || gguf_name == "output.weight") return {V, D};
  if (ends("_norm.weight")) return {D};
  if (ends("attn_q.weight")) return {c.num_heads * HD, D};
  if (ends("attn_k.weight") || ends("attn_v.weight")) return {c.num_kv_heads * HD, D};
  if (ends("attn_output.weight")) return {D, c.num_heads * HD};
  if (ends("ffn_gate.weight") || ends("ffn_up.weight")) return {F, D};
  if (ends("ffn_down.weight")) return {D, F};
  return {};
}

}  // namespace

GgmlType parse_gguf_outtype(const std::string& name) {
  if (name == "f32") return GgmlType::F32;
  if (name == "f16") return GgmlType::F16;
  if (name == "bf16") return GgmlType::BF16;
  if (name == "q8_0") return GgmlType::Q8_0;
  if (name == "q4_0") return GgmlType::Q4_0;
  throw Error("export gguf: --outtype '" + name + "' is not supported; use f32, f16, bf16, q8_0 or q4_0");
}

uint32_t gguf_file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    default: throw std::logic_error("gguf_file_type: not an export outtype");
  }
}

std::vector<std::string> export_hf_to_gguf(const std::string& model_dir, const std::string& out_path, GgmlType outtype) {
  std::vector<std::string> notes;
  const ModelConfig c = gguf_llama_family_config(model_dir, notes);
  auto ckpt = std::make_shared<Checkpoint>(Checkpoint::open(model_dir));

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.type", "model");
  w.add_string("general.name", folder_name(model_dir));
  w.add_u32("llama.block_count", static_cast<uint32_t>(c.num_layers));
  w.add_u32("llama.context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.add_u32("llama.embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.add_u32("llama.feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.add_u32("llama.attention.head_count", static_cast<uint32_t>(c.num_heads));
  w.add_u32("llama.attention.head_count_kv", static_cast<uint32_t>(c.num_kv_heads));
  w.add_f32("llama.rope.freq_base", static_cast<float>(c.rope.theta));
  w.add_f32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(c.norm_eps));
  w.add_u32("llama.attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.add_u32("llama.attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.add_u32("llama.vocab_size", static_cast<uint32_t>(c.vocab_size));
  w.add_u32("llama.rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  if (c.rope.type == "linear" && c.rope.factor != 1.0) {
    w.add_string("llama.rope.scaling.type", "linear");
    w.add_f32("llama.rope.scaling.factor", static_cast<float>(c.rope.factor));
  }
  w.add_u32("general.file_type", gguf_file_type(outtype));
  for (auto& n : add_gguf_vocab(w, model_dir, c.vocab_size, c.bos_token_id, c.eos_token_ids)) notes.push_back(std::move(n));
  w.add_u32("general.quantization_version", kQuantizationVersion);

  std::set<std::string> written;
  int fallbacks = 0;
  std::string first_fallback;
  for (const std::string& hf : ckpt->names()) {
    if (hf.find("rotary_emb.inv_freq") != std::string::npos) continue;  // recomputed by every runtime
    if (hf == "lm_head.weight" && c.tie_word_embeddings) continue;     // llama.cpp reuses token_embd
    const auto name = gguf_llama_tensor_name(hf);
    if (!name)
      throw Error(ckpt->source() + ": tensor '" + hf + "' has no llama.cpp equivalent; only Llama-family weights "
                  "can be exported");
    const TensorView view = ckpt->get(hf);
    const std::vector<int64_t> shape = view.info->shape;
    if (shape != expected_shape(*name, c))
      throw Error(ckpt->source() + ": tensor '" + hf + "' has shape " + shape_string(shape) + ", config.json implies " +
                  shape_string(expected_shape(*name, c)));
    GgmlType type = shape.size() == 1 ? GgmlType::F32 : outtype;
    if ((type == GgmlType::Q8_0 || type == GgmlType::Q4_0) && shape.back() % 32 != 0) {
      type = GgmlType::F16;
      if (!fallbacks++) first_fallback = *name;
    }
    const int64_t heads = gguf_llama_permute_heads(hf, c);
    w.add_tensor(*name, shape, type, [ckpt, hf, heads, shape, type] {
      std::vector<float> v = tensor_as_f32(ckpt->get(hf), ckpt->source() + ": tensor '" + hf + "'");
      if (heads) v = permute_qk_rows(v, heads, shape[0], shape[1]);
      return quantize(type, v.data(), static_cast<int64_t>(v.size()));
    });
    written.insert(*name);
  }
  for (const char* must : {"token_embd.weight", "output_norm.weight"})
    if (!written.count(must)) throw Error(ckpt->source() + ": the model has no " + must + " equivalent");
  if (!c.tie_word_embeddings && !written.count("output.weight"))
    throw Error(ckpt->source() + ": lm_head.weight is missing and tie_word_embeddings is false");
  const std::size_t per_layer = 9;
  if (written.size() != 2 + (c.tie_word_embeddings ? 0 : 1) + per_layer * static_cast<std::size_t>(c.num_layers))
    throw Error(ckpt->source() + ": expected " + std::to_string(c.num_layers) + " complete layers of 9 weights, found " +
                std::to_string(written.size()) + " tensors in all");
  if (fallbacks)
    notes.push_back(std::to_string(fallbacks) + " weight(s) (first: " + first_fallback + ") have rows that are not a "
                    "multiple of 32 values and were written as F16");
  w.write(out_path);
  return notes;
}

}  // namespace axl::models
