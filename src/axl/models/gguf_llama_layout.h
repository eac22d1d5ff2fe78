#pragma once
// What a Hugging Face Llama-family checkpoint becomes in llama.cpp's "llama" architecture,
// shared by the model and the LoRA adapter GGUF exports: the tensor names
// (model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...), the per-head q/k row
// permutation (HF row s*hd/2 + j becomes GGUF row 2j + s: ggml's RoPE rotates adjacent pairs,
// transformers' rotates halves), and which configs llama.cpp runs unchanged. No libtorch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "axl/core/safetensors.h"
#include "axl/models/model_config.h"

namespace axl::models {

// llama.cpp's name for an HF Llama weight ("model.norm.weight" -> "output_norm.weight");
// nullopt when it has none.
std::optional<std::string> gguf_llama_tensor_name(const std::string& hf_name);

// The heads to permute a weight's rows over: num_heads for q_proj, num_kv_heads for k_proj,
// 0 for every other weight.
int64_t gguf_llama_permute_heads(const std::string& hf_name, const ModelConfig& c);

// Rows of a row-major [rows, cols] matrix reordered HF -> GGUF over `n_heads` heads.
std::vector<float> permute_qk_rows(const std::vector<float>& w, int64_t n_heads, int64_t rows, int64_t cols);

// config.json of `model_dir`, checked to be a model llama.cpp's llama architecture computes
// exactly as transformers does (Llama or Mistral: RMSNorm, SiLU-gated MLP, full rotary, no
// biases, default or linear RoPE). Anything else is an axl::Error that says what differs.
// `notes` gets one line per approximation accepted (Mistral's sliding window).
ModelConfig gguf_llama_family_config(const std::string& model_dir, std::vector<std::string>& notes);

// A float32, float16 or bfloat16 tensor as float32; `where` names it in errors.
std::vector<float> tensor_as_f32(const TensorView& t, const std::string& where);

}  // namespace axl::models
