#include "axl/train/adapter_setup.h"

#include "axl/core/error.h"
#include "axl/data/config_tokens.h"
#include "axl/data/prepare.h"
#include "axl/peft/method_registry.h"

namespace axl::train {

std::string peft_type_for(const std::string& adapter) {
  if (adapter == "lora" || adapter == "qlora" || adapter == "dora") return "LORA";
  if (adapter == "ia3") return "IA3";
  if (adapter == "loha") return "LOHA";
  if (adapter == "lokr") return "LOKR";
  if (adapter == "oft") return "OFT";
  if (adapter == "boft") return "BOFT";
  if (adapter == "vera") return "VERA";
  if (adapter == "adalora") return "ADALORA";
  if (adapter == "prefix_tuning") return "PREFIX_TUNING";
  if (adapter == "prompt_tuning") return "PROMPT_TUNING";
  throw Error("adapter: '" + adapter + "' has no PEFT method");
}

namespace {

nlohmann::json target_modules_json(const config::Config& cfg) {
  if (cfg.lora_target_linear) return "all-linear";
  if (cfg.lora_target_regex) return *cfg.lora_target_regex;
  if (!cfg.lora_target_modules.empty()) return cfg.lora_target_modules;
  return nullptr;  // the method's defaults for the model type
}

}  // namespace

nlohmann::json adapter_config_json(const config::Config& cfg) {
  const std::string type = peft_type_for(cfg.adapter);
  nlohmann::json j = {{"peft_type", type}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", cfg.base_model}};
  const nlohmann::json targets = target_modules_json(cfg);
  const bool prompt_method = type == "PREFIX_TUNING" || type == "PROMPT_TUNING";
  if (!prompt_method && !targets.is_null()) j["target_modules"] = targets;
  if (!prompt_method && !cfg.lora_modules_to_save.empty()) j["modules_to_save"] = cfg.lora_modules_to_save;
  // Each method's names for Axolotl's rank / alpha / dropout (unset keys keep PEFT's defaults).
  if (type == "LORA") {
    j["r"] = cfg.lora_r > 0 ? cfg.lora_r : 8;
    j["lora_alpha"] = cfg.lora_alpha > 0 ? cfg.lora_alpha : static_cast<double>(j["r"].get<int64_t>());
    j["lora_dropout"] = cfg.lora_dropout;
    j["use_rslora"] = cfg.peft_use_rslora;
    j["use_dora"] = cfg.peft_use_dora || cfg.adapter == "dora";
  } else if (type == "ADALORA") {
    if (cfg.lora_r > 0) j["init_r"] = cfg.lora_r;
    if (cfg.lora_alpha > 0) j["lora_alpha"] = cfg.lora_alpha;
    j["lora_dropout"] = cfg.lora_dropout;
  } else if (type == "LOHA" || type == "LOKR") {
    if (cfg.lora_r > 0) j["r"] = cfg.lora_r;
    if (cfg.lora_alpha > 0) j["alpha"] = cfg.lora_alpha;
  } else if (type == "VERA") {
    if (cfg.lora_r > 0) j["r"] = cfg.lora_r;
    j["vera_dropout"] = cfg.lora_dropout;
  }
  // OFT/BOFT (r is a block count there), IA3 and the prompt methods take their fields from
  // the peft: block only.
  for (auto it = cfg.peft.begin(); it != cfg.peft.end(); ++it) j[it.key()] = it.value();
  j["peft_type"] = type;  // the adapter key decides, whatever the block says
  // Axolotl: `peft: {loftq_config: {loftq_bits: N}}` alone turns on LoftQ initialisation.
  if (type == "LORA" && !cfg.peft.contains("init_lora_weights") && cfg.peft.contains("loftq_config") &&
      cfg.peft["loftq_config"].is_object() && cfg.peft["loftq_config"].contains("loftq_bits"))
    j["init_lora_weights"] = "loftq";
  return j;
}

peft::Adapter attach_training_adapter(models::CausalLM& model, const config::Config& cfg, uint64_t seed) {
  nlohmann::json j = adapter_config_json(cfg);
  // Prompt tuning's TEXT initialisation encodes its text with the run's tokenizer (PEFT loads
  // tokenizer_name_or_path, by default the run's tokenizer folder here).
  if (j["peft_type"] == "PROMPT_TUNING" && j.value("prompt_tuning_init", std::string()) == "TEXT" &&
      j.contains("prompt_tuning_init_text") && j["prompt_tuning_init_text"].is_string()) {
    if (!j.contains("tokenizer_name_or_path") || j["tokenizer_name_or_path"].is_null())
      j["tokenizer_name_or_path"] = data::tokenizer_dir_for(cfg);
    std::vector<int64_t> ids;
    for (auto id : data::load_config_tokenizer(cfg)->encode(j["prompt_tuning_init_text"].get<std::string>()))
      ids.push_back(static_cast<int64_t>(id));
    j["prompt_tuning_init_token_ids"] = ids;
  }
  return peft::attach_adapter(model, j, cfg.source_file + " (adapter: " + cfg.adapter + ")", seed);
}

}  // namespace axl::train
