#pragma once
// bitsandbytes-format checkpoints, as transformers' save_pretrained writes a model loaded
// with BitsAndBytesConfig: each quantized linear keeps `<module>.weight` (packed uint8
// [numel/2, 1]) plus weight.absmax, weight.quant_map, weight.nested_absmax,
// weight.nested_quant_map and weight.quant_state.bitsandbytes__nf4|fp4 (the non-tensor state
// as UTF-8 JSON bytes); 8-bit layers keep an int8 weight, SCB and weight_format. config.json
// carries the quantization_config block. Other tensors stay dense.
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>

#include "axl/models/causal_lm.h"
#include "axl/models/loader.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/quantize_model.h"

namespace axl::quant {

// True when config.json in `model_dir` holds a bitsandbytes quantization_config.
bool is_bnb_checkpoint(const std::string& model_dir);

// The state-dict entries of one 4-bit weight under `weight_key` (e.g. "...q_proj.weight").
std::map<std::string, at::Tensor> quant_state_entries(const std::string& weight_key, const Quantized4bit& q);
// Rebuilds a 4-bit weight from its entries; `get(key)` returns the tensor or an undefined one.
Quantized4bit quant_state_from_entries(const std::string& weight_key,
                                       const std::function<at::Tensor(const std::string&)>& get);

// Loads a bitsandbytes-quantized Hugging Face model: quantized slots get Linear4bit /
// Linear8bit bases, everything else loads as usual in opts.dtype. `spec` (optional) receives
// the checkpoint's quantization settings.
models::CausalLM load_bnb_causal_lm(const std::string& model_dir, const models::LoadOptions& opts,
                                    QuantizeSpec* spec = nullptr);

// Loads any model for training/inference: a bitsandbytes checkpoint as it is; otherwise the
// dense model, quantized by `spec` when given.
models::CausalLM load_maybe_quantized(const std::string& model_dir, const models::LoadOptions& opts,
                                      const QuantizeSpec* spec);

// Writes `model` (its slots already quantized) as a bitsandbytes-format folder that
// transformers loads: model.safetensors, config.json (from `base_dir`, plus
// quantization_config) and the tokenizer/generation files of `base_dir`.
void save_bnb_checkpoint(const models::CausalLM& model, const std::string& base_dir, const std::string& out_dir,
                         const QuantizeSpec& spec);

}  // namespace axl::quant
