#pragma once
// Putting a model's linear slots on quantized bases (QLoRA's load_in_4bit, load_in_8bit), and
// the settings as transformers' BitsAndBytesConfig spells them in config.json.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include <string>

#include "axl/models/causal_lm.h"
#include "axl/quant/code_tables.h"

namespace axl::quant {

struct QuantizeSpec {
  int bits = 4;                           // 4 (NF4/FP4 blockwise) or 8 (LLM.int8 row-wise)
  Quant4Type type = Quant4Type::NF4;      // bnb_4bit_quant_type
  int64_t blocksize = 64;
  bool double_quant = true;               // bnb_4bit_use_double_quant
  at::ScalarType compute_dtype = at::kFloat;  // bnb_4bit_compute_dtype
};

// Replaces the dense base of every linear slot except the output head (transformers keeps
// lm_head unquantised) by a quantized one, in place. Returns how many slots were quantized.
int quantize_linear_slots(models::CausalLM& model, const QuantizeSpec& spec);

// transformers' BitsAndBytesConfig.to_dict() for `spec` (what config.json's
// quantization_config holds), and back. `where` names the source in errors.
nlohmann::json quantization_config_json(const QuantizeSpec& spec);
QuantizeSpec spec_from_quantization_config(const nlohmann::json& qc, const std::string& where);

// "float32" / "bfloat16" / "float16" (and torch.-prefixed forms) to a dtype.
at::ScalarType parse_compute_dtype(const std::string& s, const std::string& where);
std::string dtype_name(at::ScalarType t);

}  // namespace axl::quant
