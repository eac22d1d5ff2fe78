#include "axl/quant/quantize_config.h"

#include "axl/core/error.h"

namespace axl::quant {

std::optional<QuantizeSpec> spec_for_config(const config::Config& cfg, at::ScalarType model_dtype) {
  if (!cfg.load_in_4bit && !cfg.load_in_8bit) return std::nullopt;
  QuantizeSpec s;
  s.compute_dtype = model_dtype;
  if (cfg.load_in_8bit) {
    s.bits = 8;
    return s;
  }
  // Axolotl's defaults, then bnb_config_kwargs on top (loaders/model.py).
  nlohmann::json qc = {{"load_in_4bit", true},
                       {"bnb_4bit_quant_type", "nf4"},
                       {"bnb_4bit_use_double_quant", true},
                       {"bnb_4bit_compute_dtype", dtype_name(model_dtype)}};
  const std::string where = cfg.source_file + " (bnb_config_kwargs)";
  for (auto it = cfg.bnb_config_kwargs.begin(); it != cfg.bnb_config_kwargs.end(); ++it) {
    const std::string& k = it.key();
    if (k == "bnb_4bit_quant_storage" || k == "llm_int8_threshold" || k == "llm_int8_has_fp16_weight")
      continue;  // storage dtype of the packed codes / 8-bit outlier options: no effect on 4-bit codes
    if (k != "bnb_4bit_quant_type" && k != "bnb_4bit_use_double_quant" && k != "bnb_4bit_compute_dtype" &&
        k != "load_in_4bit")
      throw Error(where + ": '" + k + "' is not supported (supported: bnb_4bit_quant_type, bnb_4bit_use_double_quant, "
                  "bnb_4bit_compute_dtype, bnb_4bit_quant_storage)");
    qc[k] = it.value();
  }
  QuantizeSpec parsed = spec_from_quantization_config(qc, where);
  parsed.bits = 4;
  return parsed;
}

}  // namespace axl::quant
