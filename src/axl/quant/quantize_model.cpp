#include "axl/quant/quantize_model.h"

#include <memory>

#include "axl/core/error.h"
#include "axl/quant/quantized_linear.h"

namespace axl::quant {

at::ScalarType parse_compute_dtype(const std::string& s_in, const std::string& where) {
  std::string s = s_in.rfind("torch.", 0) == 0 ? s_in.substr(6) : s_in;
  if (s == "float32" || s == "float") return at::kFloat;
  if (s == "bfloat16") return at::kBFloat16;
  if (s == "float16" || s == "half") return at::kHalf;
  throw Error(where + ": compute dtype '" + s_in + "' is not supported; use float32, bfloat16 or float16");
}

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return "float32";
  }
}

int quantize_linear_slots(models::CausalLM& model, const QuantizeSpec& spec) {
  if (spec.bits != 4 && spec.bits != 8) throw Error("quantization needs 4 or 8 bits, got " + std::to_string(spec.bits));
  at::NoGradGuard no_grad;
  int count = 0;
  for (models::LinearSlot* slot : model.slots()) {
    if (slot == &model.lm_head) continue;
    if (std::dynamic_pointer_cast<QuantizedBase>(slot->base)) continue;
    at::Tensor w = slot->base->dense_weight().detach();
    const at::Device device = w.device();
    if (spec.bits == 4) {
      Quantized4bit q = quantize_4bit(w.to(at::kCPU), spec.type, spec.blocksize, spec.double_quant);
      move_to(q, device);
      slot->base = std::make_shared<Linear4bit>(std::move(q), spec.compute_dtype);
    } else {
      Int8Rowwise q = quantize_int8_rowwise(w);
      q.codes = q.codes.to(device);
      q.row_absmax = q.row_absmax.to(device);
      slot->base = std::make_shared<Linear8bit>(std::move(q), spec.compute_dtype);
    }
    ++count;
  }
  return count;
}

nlohmann::json quantization_config_json(const QuantizeSpec& spec) {
  const bool four = spec.bits == 4;
  return {{"_load_in_4bit", four},
          {"_load_in_8bit", !four},
          {"bnb_4bit_compute_dtype", dtype_name(spec.compute_dtype)},
          {"bnb_4bit_quant_storage", "uint8"},
          {"bnb_4bit_quant_type", quant4_type_name(spec.type)},
          {"bnb_4bit_use_double_quant", spec.double_quant},
          {"llm_int8_enable_fp32_cpu_offload", false},
          {"llm_int8_has_fp16_weight", false},
          {"llm_int8_skip_modules", nullptr},
          {"llm_int8_threshold", 6.0},
          {"load_in_4bit", four},
          {"load_in_8bit", !four},
          {"quant_method", "bitsandbytes"}};
}

QuantizeSpec spec_from_quantization_config(const nlohmann::json& qc, const std::string& where) {
  if (!qc.is_object()) throw Error(where + ": quantization_config must be an object");
  const std::string method = qc.value("quant_method", std::string("bitsandbytes"));
  if (method != "bitsandbytes")
    throw Error(where + ": quantization method '" + method + "' is not supported (only bitsandbytes)");
  auto flag = [&](const char* a, const char* b) {
    if (qc.contains(a) && qc[a].is_boolean()) return qc[a].get<bool>();
    return qc.contains(b) && qc[b].is_boolean() && qc[b].get<bool>();
  };
  QuantizeSpec s;
  const bool four = flag("load_in_4bit", "_load_in_4bit"), eight = flag("load_in_8bit", "_load_in_8bit");
  if (four == eight) throw Error(where + ": quantization_config must set exactly one of load_in_4bit / load_in_8bit");
  s.bits = four ? 4 : 8;
  if (qc.contains("bnb_4bit_quant_type") && qc["bnb_4bit_quant_type"].is_string())
    s.type = parse_quant4_type(qc["bnb_4bit_quant_type"].get<std::string>());
  if (qc.contains("bnb_4bit_use_double_quant") && qc["bnb_4bit_use_double_quant"].is_boolean())
    s.double_quant = qc["bnb_4bit_use_double_quant"].get<bool>();
  else
    s.double_quant = false;  // BitsAndBytesConfig's default
  if (qc.contains("bnb_4bit_compute_dtype") && qc["bnb_4bit_compute_dtype"].is_string())
    s.compute_dtype = parse_compute_dtype(qc["bnb_4bit_compute_dtype"].get<std::string>(), where);
  if (qc.contains("bnb_4bit_quant_storage") && qc["bnb_4bit_quant_storage"].is_string() &&
      qc["bnb_4bit_quant_storage"].get<std::string>() != "uint8")
    throw Error(where + ": bnb_4bit_quant_storage '" + qc["bnb_4bit_quant_storage"].get<std::string>() +
                "' is not supported (only uint8)");
  return s;
}

}  // namespace axl::quant
