// Axolotl's exclusions and derived values (validation.py, normalize_config): batch sizes,
// warmup, save/eval steps, early stopping, precision, attention, chat templates.
#include <cmath>

#include "axl/config/axolotl_schema.h"
#include "axl/config/config_fields.h"
#include "axl/core/error.h"

namespace axl::config {

namespace {

std::string num(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void derive_batch(const Reader& r, Config& c) {
  // Axolotl: two of micro_batch_size / gradient_accumulation_steps / batch_size; the third is
  // derived (schema defaults are micro_batch_size 1, gradient_accumulation_steps 1).
  auto mbs = r.opt_positive_int("micro_batch_size");
  auto gas = r.opt_positive_int("gradient_accumulation_steps");
  auto bs = r.opt_positive_int("batch_size");
  if (bs && gas)
    r.fail("batch_size", "set only one of gradient_accumulation_steps or batch_size (batch_size = "
                         "micro_batch_size * gradient_accumulation_steps); remove one of them");
  if (bs && !mbs)
    r.fail("batch_size", "at least two of micro_batch_size, gradient_accumulation_steps, batch_size must "
                         "be set; add micro_batch_size");
  c.micro_batch_size = mbs.value_or(1);
  c.world_size = 1;  // one process; batch_size counts every process's samples
  if (bs) {
    if (*bs % (c.micro_batch_size * c.world_size) != 0)
      r.fail("batch_size", std::to_string(*bs) + " is not a multiple of micro_batch_size (" +
                               std::to_string(c.micro_batch_size) + "); make it one, or set "
                               "gradient_accumulation_steps instead");
    c.gradient_accumulation_steps = *bs / (c.micro_batch_size * c.world_size);
  } else {
    c.gradient_accumulation_steps = gas.value_or(1);
  }
  c.batch_size = c.micro_batch_size * c.gradient_accumulation_steps * c.world_size;
  c.eval_batch_size = r.opt_positive_int("eval_batch_size").value_or(c.micro_batch_size);
}

void derive_schedule(const Reader& r, Config& c, std::vector<std::string>& warnings) {
  if (c.warmup_steps.value_or(0) && c.warmup_ratio.value_or(0.0))
    r.fail("warmup_ratio", "warmup_steps and warmup_ratio are mutually exclusive; keep one of them");
  if (c.save_steps.value_or(0) && c.saves_per_epoch.value_or(0))
    r.fail("saves_per_epoch", "save_steps and saves_per_epoch are mutually exclusive; keep one of them");
  if (c.eval_steps.value_or(0) && c.evals_per_epoch.value_or(0))
    r.fail("evals_per_epoch", "eval_steps and evals_per_epoch are mutually exclusive; keep one of them");
  const bool has_eval_set = c.val_set_size > 0 || !c.test_datasets.empty();
  if (!c.test_datasets.empty() && c.val_set_size > 0)
    r.fail("val_set_size", "test_datasets and val_set_size are mutually exclusive; set val_set_size: 0 "
                           "to evaluate on test_datasets");
  if (!has_eval_set && r.has("val_set_size") && (c.eval_steps.value_or(0) || c.eval_strategy))
    r.fail(c.eval_steps ? "eval_steps" : "eval_strategy",
           "evaluation needs data: val_set_size is 0 and there are no test_datasets; set val_set_size "
           "(e.g. 0.05) or remove it");

  // *_per_epoch become fractions of the total steps (HF reads steps < 1 as a ratio).
  if (c.saves_per_epoch.value_or(0) > 0 && c.num_epochs > 0) {
    double s = 1.0 / (static_cast<double>(*c.saves_per_epoch) * c.num_epochs);
    if (s < 1.0) c.save_steps = s;
    else if (s > 1.0)
      warnings.push_back(r.where("saves_per_epoch") + ": saves_per_epoch * num_epochs < 1 gives save_steps " +
                         num(s) + "; saving at the end of training only");
  }
  if (has_eval_set && c.evals_per_epoch.value_or(0) > 0 && c.num_epochs > 0) {
    double s = 1.0 / (static_cast<double>(*c.evals_per_epoch) * c.num_epochs);
    if (s < 1.0) c.eval_steps = s;
    else if (s > 1.0)
      warnings.push_back(r.where("evals_per_epoch") + ": evals_per_epoch * num_epochs < 1 gives eval_steps " +
                         num(s) + "; skipping evaluations");
  }
  if (c.early_stopping_patience) {
    if (!c.save_steps || !c.eval_steps)
      r.fail("early_stopping_patience", "needs save_steps and eval_steps (eval_steps dividing save_steps); "
                                        "set both or remove early_stopping_patience");
    double ratio = *c.save_steps / *c.eval_steps;
    if (std::fabs(ratio - std::round(ratio)) > 1e-9)
      r.fail("early_stopping_patience", "needs save_steps (" + num(*c.save_steps) +
                                            ") to be a multiple of eval_steps (" + num(*c.eval_steps) + ")");
  }
  if (c.lr_scheduler == "cosine_with_min_lr" && !c.lr_scheduler_kwargs.count("min_lr") &&
      !c.lr_scheduler_kwargs.count("min_lr_rate") && !c.cosine_min_lr_ratio)
    r.fail("lr_scheduler", "cosine_with_min_lr needs lr_scheduler_kwargs.min_lr or min_lr_rate "
                           "(or use lr_scheduler: cosine with cosine_min_lr_ratio)");
}

void derive_precision(const Reader& r, const std::string& device, Config& c, std::vector<std::string>& warnings) {
  auto auto_or_bool = [&](const char* key) -> std::string {
    auto v = r.opt_string(key);
    if (!v) return "auto";
    if (*v == "auto") return "auto";
    if (auto b = parse_bool(*v)) return *b ? "true" : "false";
    r.fail(key, "expected auto, true or false, got '" + *v + "'");
  };
  c.bf16_setting = auto_or_bool("bf16");
  c.tf32_setting = auto_or_bool("tf32");
  const bool cuda = device.rfind("cuda", 0) == 0;
  c.bf16 = c.bf16_setting == "true" || (c.bf16_setting == "auto" && cuda);
  c.fp16 = r.get("fp16", false) && !c.bf16;  // Axolotl: bf16 wins over fp16
  c.tf32 = c.tf32_setting == "true" && cuda;
  if (c.bf16_setting == "auto" && !cuda && r.has("bf16"))
    warnings.push_back(r.where("bf16") + ": bf16: auto resolves to false on " + device +
                       " (float32 training); pass --device cuda to plan for a GPU");
}

void derive_attention(const Reader& r, Config& c) {
  // Legacy boolean flags, most specific first (Axolotl's priority).
  static const char* const legacy[][2] = {{"xformers_attention", "xformers"}, {"sage_attention", "sage"},
                                           {"flex_attention", "flex_attention"},
                                           {"flash_attention", "flash_attention_2"},
                                           {"sdp_attention", "sdpa"}, {"eager_attention", "eager"}};
  std::string legacy_key;
  for (const auto& l : legacy)
    if (r.get(l[0], false) && legacy_key.empty()) legacy_key = l[0], c.attn_requested = l[1];
  if (auto impl = r.opt_string("attn_implementation")) {
    if (!legacy_key.empty())
      r.fail(legacy_key.c_str(), "cannot be combined with attn_implementation; remove " + legacy_key +
                                     " and keep `attn_implementation: " + *impl + "`");
    static const char* const short_forms[][2] = {{"flash", "flash_attention_2"}, {"flex", "flex_attention"},
                                                 {"sdp", "sdpa"}};
    for (const auto& s : short_forms)
      if (*impl == s[0])
        r.fail("attn_implementation", "'" + *impl + "' is a short form Axolotl rejects; write `attn_implementation: " +
                                          s[1] + "`");
    if (!schema::is_attn_implementation(*impl)) {
      std::string guess = schema::closest(*impl, schema::attn_implementations());
      r.fail("attn_implementation", "'" + *impl + "' is not an attention implementation" +
                                        (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                                        "; use eager, sdpa, flash_attention_2, flex_attention, ...");
    }
    c.attn_requested = *impl;
  }
  // Every backend maps to our best path: SDPA (eager where a model needs soft-capping).
  c.attention_path = c.attn_requested == "eager" ? "eager" : "sdpa";
}

void check_adapter(const Reader& r, Config& c) {
  if (c.adapter.empty()) return;  // Axolotl ignores lora_* settings without an adapter
  // Axolotl's LoRA rules; the other methods take PEFT's defaults for what is unset.
  if (c.adapter != "lora" && c.adapter != "qlora" && c.adapter != "dora") return;
  if (c.lora_r <= 0) r.fail("adapter", "LoRA needs lora_r (the rank), e.g. `lora_r: 16`");
  if (!r.has("lora_alpha")) r.fail("adapter", "LoRA needs lora_alpha (scaling = lora_alpha / lora_r), e.g. `lora_alpha: 32`");
  if (c.lora_alpha <= 0) r.fail("lora_alpha", "must be positive, e.g. 32");
  if (c.lora_target_modules.empty() && !c.lora_target_regex && !c.lora_target_linear)
    r.fail("adapter", "LoRA needs target modules: set `lora_target_linear: true` or list "
                      "`lora_target_modules` (e.g. [q_proj, v_proj])");
}

}  // namespace

void derive_values(const Origin& origin, const YAML::Node& root, const std::string& device, Config& c,
                   std::vector<std::string>& warnings) {
  Reader r(origin, root, "");
  derive_batch(r, c);
  derive_schedule(r, c, warnings);
  derive_precision(r, device, c, warnings);
  derive_attention(r, c);
  check_adapter(r, c);
  if (c.datasets.empty() && c.pretraining_dataset.empty())
    throw Error(origin.file + ": datasets is required: add e.g. `datasets: [{path: data.jsonl, type: alpaca}]`");
  // Streams have no known length (Axolotl's check_pretraining_w_max_steps / *_w_val_set_size).
  if (!c.pretraining_dataset.empty() || c.streaming) {
    const char* key = c.pretraining_dataset.empty() ? "streaming" : "pretraining_dataset";
    if (!c.max_steps) r.fail(key, "needs max_steps: a streamed dataset's length is unknown, so the schedule cannot be derived");
    if (c.val_set_size > 0)
      r.fail("val_set_size", "is not supported with streaming datasets; use test_datasets for evaluation");
  }
  // Packed rows are planned by length already; the sampler that group_by_length changes is not used.
  if (c.group_by_length && (c.sample_packing || !c.pretraining_dataset.empty() || c.streaming))
    warnings.push_back(r.where("group_by_length") + ": group_by_length has no effect on packed or streamed data; ignored");
  // Virtual tokens go in front of a whole row, so a packed row's later samples would not get them.
  if ((c.sample_packing || c.eval_sample_packing) && (c.adapter == "prefix_tuning" || c.adapter == "prompt_tuning"))
    r.fail(c.sample_packing ? "sample_packing" : "eval_sample_packing",
           c.adapter + " cannot train on packed rows; set `sample_packing: false` and `eval_sample_packing: false`");
  // chat_template: jinja needs the template; chat_template_jinja alone implies jinja.
  if (c.chat_template_jinja && !c.chat_template) c.chat_template = "jinja";
  if (c.chat_template == std::optional<std::string>("jinja") && !c.chat_template_jinja)
    r.fail("chat_template", "`chat_template: jinja` needs chat_template_jinja (the template text or a file path)");
  // Datasets inherit the top-level template (normalize_cfg_datasets); chat_template types
  // default to the tokenizer's own.
  for (auto* list : {&c.datasets, &c.test_datasets, &c.pretraining_dataset})
    for (auto& d : *list) {
      d.train_on_inputs = c.train_on_inputs;
      if (d.chat_template_jinja && !d.chat_template) d.chat_template = "jinja";
      if (d.type.rfind("chat_template", 0) == 0 && !d.chat_template) {
        d.chat_template = c.chat_template.value_or("tokenizer_default");
        if (c.chat_template_jinja && !d.chat_template_jinja) d.chat_template_jinja = c.chat_template_jinja;
      }
      if (d.chat_template == std::optional<std::string>("jinja") && !d.chat_template_jinja)
        throw Error(d.where + ": chat_template: jinja needs chat_template_jinja (in the dataset or at the top level)");
    }
}

}  // namespace axl::config
