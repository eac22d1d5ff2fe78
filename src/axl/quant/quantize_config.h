#pragma once
// What an Axolotl config asks of the base weights: Axolotl's QLoRA BitsAndBytesConfig
// (nf4, double quantisation, the model's dtype for compute) updated by bnb_config_kwargs for
// `adapter: qlora` + `load_in_4bit`, LLM.int8 for `adapter: lora` + `load_in_8bit`.
#include <ATen/ATen.h>

#include <optional>

#include "axl/config/config.h"
#include "axl/quant/quantize_model.h"

namespace axl::quant {

// nullopt: the config keeps dense base weights.
std::optional<QuantizeSpec> spec_for_config(const config::Config& cfg, at::ScalarType model_dtype);

}  // namespace axl::quant
