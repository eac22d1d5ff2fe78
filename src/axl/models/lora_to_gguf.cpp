#include "axl/models/lora_to_gguf.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_llama_layout.h"
#include "axl/models/gguf_quantize.h"
#include "axl/models/gguf_writer.h"

namespace axl::models {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kPrefix = "base_model.model.";

struct LoraPair {
  std::string a, b;  // adapter tensor names
};

}  // namespace

std::vector<std::string> export_lora_to_gguf(const std::string& adapter_dir, const std::string& base_model_dir,
                                             const std::string& out_path, GgmlType outtype) {
  if (outtype != GgmlType::F32 && outtype != GgmlType::F16 && outtype != GgmlType::BF16)
    throw Error("export gguf --adapter: --outtype must be f32, f16 or bf16 for a LoRA adapter");
  const std::string cfg_path = (fs::path(adapter_dir) / "adapter_config.json").string();
  if (!fs::is_regular_file(cfg_path)) throw Error(adapter_dir + ": no adapter_config.json (not a PEFT adapter folder)");
  const json cfg = read_json_file(cfg_path);
  const std::string type = cfg.value("peft_type", "");
  if (type != "LORA") throw Error(cfg_path + ": peft_type '" + type + "'; llama.cpp adapters can only be LoRA");
  if (cfg.value("use_dora", false)) throw Error(cfg_path + ": DoRA adapters have no llama.cpp representation; merge it "
                                                "(export gguf --config, or merge-lora then export gguf --model)");
  if (cfg.value("lora_bias", false) || cfg.value("bias", "none") != "none")
    throw Error(cfg_path + ": adapters with biases have no llama.cpp representation");
  if (cfg.contains("modules_to_save") && cfg["modules_to_save"].is_array() && !cfg["modules_to_save"].empty())
    throw Error(cfg_path + ": modules_to_save (fully trained copies of layers) have no llama.cpp adapter representation; "
                "merge it instead");
  if (cfg.contains("alpha_pattern") && cfg["alpha_pattern"].is_object() && !cfg["alpha_pattern"].empty())
    throw Error(cfg_path + ": a per-layer alpha_pattern cannot be exported yet; merge the adapter instead");
  if (!cfg.contains("lora_alpha") || !cfg["lora_alpha"].is_number() || !(cfg["lora_alpha"].get<double>() > 0))
    throw Error(cfg_path + ": lora_alpha must be a positive number");
  const double alpha = cfg["lora_alpha"].get<double>();
  const bool rslora = cfg.value("use_rslora", false);

  std::vector<std::string> notes;
  const ModelConfig base = gguf_llama_family_config(base_model_dir, notes);
  const std::string weights = (fs::path(adapter_dir) / "adapter_model.safetensors").string();
  if (!fs::is_regular_file(weights)) throw Error(adapter_dir + ": no adapter_model.safetensors");
  auto file = SafetensorsFile::open(weights);

  std::map<std::string, LoraPair> modules;  // by HF weight name, sorted like the layers
  for (const TensorInfo& t : file->tensors()) {
    const std::string& n = t.name;
    const bool is_a = n.size() > 14 && n.compare(n.size() - 14, 14, ".lora_A.weight") == 0;
    const bool is_b = n.size() > 14 && n.compare(n.size() - 14, 14, ".lora_B.weight") == 0;
    if ((!is_a && !is_b) || n.rfind(kPrefix, 0) != 0)
      throw Error(weights + ": tensor '" + n + "' is not a LoRA A/B matrix of a linear layer; llama.cpp adapters hold only those");
    const std::string hf = n.substr(kPrefix.size(), n.size() - kPrefix.size() - 14) + ".weight";
    (is_a ? modules[hf].a : modules[hf].b) = n;
  }
  if (modules.empty()) throw Error(weights + ": no LoRA tensors");

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.type", "adapter");
  w.add_string("adapter.type", "lora");
  w.add_f32("adapter.lora.alpha", static_cast<float>(alpha));
  bool folded = false;
  for (const auto& [hf, pair] : modules) {
    const auto name = gguf_llama_tensor_name(hf);
    if (!name || *name == "token_embd.weight" || hf.find("norm") != std::string::npos)
      throw Error(weights + ": LoRA on '" + hf + "' has no llama.cpp adapter equivalent (only the linear projections do)");
    if (pair.a.empty() || pair.b.empty()) throw Error(weights + ": '" + hf + "' lacks its lora_A or lora_B tensor");
    const auto shape_a = file->get(pair.a).info->shape, shape_b = file->get(pair.b).info->shape;
    if (shape_a.size() != 2 || shape_b.size() != 2 || shape_a[0] != shape_b[1] || shape_a[0] <= 0)
      throw Error(weights + ": '" + hf + "' has lora_A and lora_B shapes that do not share a rank");
    const int64_t r = shape_a[0];
    // llama.cpp applies alpha / r; PEFT applies alpha / r (or alpha / sqrt(r) with rsLoRA).
    const double peft_scale = rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
    const float fold = static_cast<float>(peft_scale / (alpha / static_cast<double>(r)));
    folded = folded || fold != 1.0f;
    const int64_t heads = gguf_llama_permute_heads(hf, base);
    const std::string a_name = pair.a, b_name = pair.b;
    w.add_tensor(*name + ".lora_a", shape_a, outtype, [file, a_name, outtype] {
      std::vector<float> v = tensor_as_f32(file->get(a_name), a_name);
      return quantize(outtype, v.data(), static_cast<int64_t>(v.size()));
    });
    w.add_tensor(*name + ".lora_b", shape_b, outtype, [file, b_name, outtype, heads, shape_b, fold] {
      std::vector<float> v = tensor_as_f32(file->get(b_name), b_name);
      if (heads) v = permute_qk_rows(v, heads, shape_b[0], shape_b[1]);
      if (fold != 1.0f)
        for (float& x : v) x *= fold;
      return quantize(outtype, v.data(), static_cast<int64_t>(v.size()));
    });
  }
  if (folded) notes.push_back("rsLoRA scaling alpha/sqrt(r) folded into lora_b (llama.cpp applies alpha/r)");
  w.write(out_path);
  return notes;
}

}  // namespace axl::models
