#include "axl/config/plan.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "axl/config/axolotl_schema.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::config {

namespace {

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <class T>
void put(YAML::Emitter& e, const char* key, const std::optional<T>& v) {
  if (v) e << YAML::Key << key << YAML::Value << *v;
}

// A JSON value (the peft: block) as YAML; strings are quoted so they read back as strings.
void put_json(YAML::Emitter& e, const nlohmann::json& j) {
  if (j.is_object()) {
    e << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      e << YAML::Key << it.key() << YAML::Value;
      put_json(e, it.value());
    }
    e << YAML::EndMap;
  } else if (j.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& v : j) put_json(e, v);
    e << YAML::EndSeq;
  } else if (j.is_string()) {
    e << YAML::DoubleQuoted << j.get<std::string>();
  } else if (j.is_boolean()) {
    e << j.get<bool>();
  } else if (j.is_number_integer()) {
    e << j.get<int64_t>();
  } else if (j.is_number()) {
    e << j.get<double>();
  } else {
    e << YAML::Null;
  }
}

void put_list(YAML::Emitter& e, const char* key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  e << YAML::Key << key << YAML::Value << YAML::Flow << v;
}

void put_dataset(YAML::Emitter& e, const DatasetConfig& d) {
  e << YAML::BeginMap << YAML::Key << "path" << YAML::Value << d.path;
  if (d.user_type) {
    const auto& t = *d.user_type;
    e << YAML::Key << "type" << YAML::Value << YAML::BeginMap;
    put(e, "system_prompt", t.system_prompt);
    put(e, "system_format", t.system_format);
    put(e, "field_system", t.field_system);
    put(e, "field_instruction", t.field_instruction);
    put(e, "field_input", t.field_input);
    put(e, "field_output", t.field_output);
    put(e, "format", t.format);
    put(e, "no_input_format", t.no_input_format);
    e << YAML::EndMap;
  } else {
    e << YAML::Key << "type" << YAML::Value << d.type;
  }
  put_list(e, "data_files", d.data_files);
  put(e, "split", d.split);
  put(e, "name", d.name);
  put(e, "ds_type", d.ds_type);
  put(e, "revision", d.revision);
  put(e, "conversation", d.conversation);
  put(e, "chat_template", d.chat_template);
  put(e, "chat_template_jinja", d.chat_template_jinja);
  put(e, "field", d.field);
  put(e, "field_human", d.field_human);
  put(e, "field_model", d.field_model);
  put(e, "field_messages", d.field_messages);
  put(e, "field_tools", d.field_tools);
  put(e, "field_thinking", d.field_thinking);
  put(e, "template_thinking_key", d.template_thinking_key);
  put(e, "message_field_training", d.message_field_training);
  put(e, "message_field_training_detail", d.message_field_training_detail);
  put(e, "text_column", d.text_column);
  put(e, "input_format", d.input_format);
  if (!d.message_property_mappings.empty())
    e << YAML::Key << "message_property_mappings" << YAML::Value << YAML::Flow << d.message_property_mappings;
  if (!d.roles.empty()) e << YAML::Key << "roles" << YAML::Value << YAML::Flow << d.roles;
  if (d.roles_to_train) put_list(e, "roles_to_train", *d.roles_to_train);
  put(e, "train_on_eos", d.train_on_eos);
  put(e, "train_on_eot", d.train_on_eot);
  put(e, "drop_system_message", d.drop_system_message);
  put(e, "split_thinking", d.split_thinking);
  put(e, "skip", d.skip);
  e << YAML::EndMap;
}

}  // namespace

Schedule derive_schedule(const Config& c, int64_t train_samples) {
  Schedule s;
  const double per_epoch = std::ceil(static_cast<double>(train_samples) / static_cast<double>(c.batch_size));
  s.total_steps = c.max_steps ? *c.max_steps : static_cast<int64_t>(std::ceil(per_epoch * c.num_epochs));
  if (c.warmup_steps) s.warmup_steps = *c.warmup_steps;
  else if (c.warmup_ratio) s.warmup_steps = static_cast<int64_t>(std::ceil(*c.warmup_ratio * s.total_steps));
  else s.warmup_steps = std::min<int64_t>(static_cast<int64_t>(0.03 * s.total_steps), 100);
  if (s.warmup_steps == 1) s.warmup_steps = 2;  // Axolotl's builder turns 1 into 2
  s.logging_steps = c.logging_steps ? *c.logging_steps
                                    : std::max<int64_t>(std::min<int64_t>(static_cast<int64_t>(0.005 * s.total_steps), 10), 1);
  return s;
}

Plan make_plan(const Config& cfg, const std::string& where_lora) {
  Plan p;
  const std::string path = cfg.model_config_dir.dir + "/config.json";
  const auto json = read_json_file(path);
  p.model = models::parse_model_config(json.dump(), path);
  if (json.contains("architectures") && json["architectures"].is_array() && !json["architectures"].empty() &&
      json["architectures"][0].is_string())
    p.architecture = json["architectures"][0].get<std::string>();
  if (cfg.model_type && *cfg.model_type != "AutoModelForCausalLM" && !p.architecture.empty() &&
      *cfg.model_type != p.architecture)
    throw Error(cfg.source_file + ": model_type " + *cfg.model_type + " does not match " + path + " (" +
                p.architecture + "); set model_type: " + p.architecture + " or AutoModelForCausalLM");
  p.params = count_parameters(p.model, cfg, where_lora);
  return p;
}

std::string resolved_config_yaml(const Config& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(15);  // 0.9, not 0.90000000000000002
  e << YAML::BeginMap;
  e << YAML::Key << "base_model" << YAML::Value << c.model.dir;
  if (c.base_model_config != c.base_model) e << YAML::Key << "base_model_config" << YAML::Value << c.model_config_dir.dir;
  if (c.tokenizer_config != c.base_model_config) e << YAML::Key << "tokenizer_config" << YAML::Value << c.tokenizer_dir.dir;
  put(e, "model_type", c.model_type);
  put(e, "tokenizer_type", c.tokenizer_type);
  put(e, "model_revision", c.model_revision);
  if (!c.adapter.empty()) {
    e << YAML::Key << "adapter" << YAML::Value << c.adapter;
    put(e, "lora_model_dir", c.lora_model_dir);
    e << YAML::Key << "lora_r" << YAML::Value << c.lora_r;
    e << YAML::Key << "lora_alpha" << YAML::Value << c.lora_alpha;
    e << YAML::Key << "lora_dropout" << YAML::Value << c.lora_dropout;
    if (c.lora_target_regex) e << YAML::Key << "lora_target_modules" << YAML::Value << *c.lora_target_regex;
    put_list(e, "lora_target_modules", c.lora_target_modules);
    e << YAML::Key << "lora_target_linear" << YAML::Value << c.lora_target_linear;
    put_list(e, "lora_modules_to_save", c.lora_modules_to_save);
    e << YAML::Key << "peft_use_rslora" << YAML::Value << c.peft_use_rslora;
    e << YAML::Key << "peft_use_dora" << YAML::Value << c.peft_use_dora;
    if (!c.peft.empty()) {
      e << YAML::Key << "peft" << YAML::Value;
      put_json(e, c.peft);
    }
    put(e, "lora_mlp_kernel", c.lora_mlp_kernel);
    put(e, "lora_qkv_kernel", c.lora_qkv_kernel);
    put(e, "lora_o_kernel", c.lora_o_kernel);
  }
  if (c.load_in_4bit) e << YAML::Key << "load_in_4bit" << YAML::Value << true;
  if (c.load_in_8bit) e << YAML::Key << "load_in_8bit" << YAML::Value << true;
  if (!c.bnb_config_kwargs.empty()) {
    e << YAML::Key << "bnb_config_kwargs" << YAML::Value;
    put_json(e, c.bnb_config_kwargs);
  }
  e << YAML::Key << "datasets" << YAML::Value << YAML::BeginSeq;
  for (const auto& d : c.datasets) put_dataset(e, d);
  e << YAML::EndSeq;
  if (!c.test_datasets.empty()) {
    e << YAML::Key << "test_datasets" << YAML::Value << YAML::BeginSeq;
    for (const auto& d : c.test_datasets) put_dataset(e, d);
    e << YAML::EndSeq;
  }
  if (!c.pretraining_dataset.empty()) {
    e << YAML::Key << "pretraining_dataset" << YAML::Value << YAML::BeginSeq;
    for (const auto& d : c.pretraining_dataset) put_dataset(e, d);
    e << YAML::EndSeq;
  }
  if (c.streaming) e << YAML::Key << "streaming" << YAML::Value << true;
  if (!c.pretraining_dataset.empty() || c.streaming) {
    e << YAML::Key << "pretrain_multipack_attn" << YAML::Value << c.pretrain_multipack_attn;
    put(e, "pretraining_sample_concatenation", c.pretraining_sample_concatenation);
  }
  e << YAML::Key << "val_set_size" << YAML::Value << c.val_set_size;
  put(e, "dataset_prepared_path", c.dataset_prepared_path);
  e << YAML::Key << "shuffle_merged_datasets" << YAML::Value << c.shuffle_merged_datasets;
  e << YAML::Key << "seed" << YAML::Value << c.seed;
  e << YAML::Key << "sequence_len" << YAML::Value << c.sequence_len;
  e << YAML::Key << "pad_to_sequence_len" << YAML::Value << c.pad_to_sequence_len;
  e << YAML::Key << "sample_packing" << YAML::Value << c.sample_packing;
  e << YAML::Key << "eval_sample_packing" << YAML::Value << c.eval_sample_packing;
  e << YAML::Key << "excess_length_strategy" << YAML::Value << c.excess_length_strategy;
  e << YAML::Key << "min_sample_len" << YAML::Value << c.min_sample_len;
  e << YAML::Key << "train_on_inputs" << YAML::Value << c.train_on_inputs;
  if (c.group_by_length) e << YAML::Key << "group_by_length" << YAML::Value << true;
  put(e, "chat_template", c.chat_template);
  put(e, "chat_template_jinja", c.chat_template_jinja);
  if (!c.chat_template_kwargs.empty()) e << YAML::Key << "chat_template_kwargs" << YAML::Value << YAML::Flow << c.chat_template_kwargs;
  put(e, "default_system_message", c.default_system_message);
  put_list(e, "eot_tokens", c.eot_tokens);
  const auto& st = c.special_tokens;
  if (st.bos_token || st.eos_token || st.pad_token || st.unk_token || !st.additional_special_tokens.empty()) {
    e << YAML::Key << "special_tokens" << YAML::Value << YAML::BeginMap;
    put(e, "bos_token", st.bos_token);
    put(e, "eos_token", st.eos_token);
    put(e, "pad_token", st.pad_token);
    put(e, "unk_token", st.unk_token);
    put_list(e, "additional_special_tokens", st.additional_special_tokens);
    e << YAML::EndMap;
  }
  put_list(e, "tokens", c.tokens);
  e << YAML::Key << "output_dir" << YAML::Value << c.output_dir;
  e << YAML::Key << "micro_batch_size" << YAML::Value << c.micro_batch_size;
  // batch_size as a comment: Axolotl (and we) refuse it beside gradient_accumulation_steps.
  e << YAML::Key << "gradient_accumulation_steps" << YAML::Value << c.gradient_accumulation_steps
    << YAML::Comment("batch_size: " + std::to_string(c.batch_size));
  e << YAML::Key << "eval_batch_size" << YAML::Value << c.eval_batch_size;
  e << YAML::Key << "num_epochs" << YAML::Value << c.num_epochs;
  put(e, "max_steps", c.max_steps);
  e << YAML::Key << "optimizer" << YAML::Value << c.optimizer;
  e << YAML::Key << "lr_scheduler" << YAML::Value << c.lr_scheduler;
  if (!c.lr_scheduler_kwargs.empty()) e << YAML::Key << "lr_scheduler_kwargs" << YAML::Value << YAML::Flow << c.lr_scheduler_kwargs;
  put(e, "cosine_min_lr_ratio", c.cosine_min_lr_ratio);
  e << YAML::Key << "learning_rate" << YAML::Value << c.learning_rate;
  put(e, "warmup_steps", c.warmup_steps);
  put(e, "warmup_ratio", c.warmup_ratio);
  e << YAML::Key << "weight_decay" << YAML::Value << c.weight_decay;
  e << YAML::Key << "adam_beta1" << YAML::Value << c.adam_beta1;
  e << YAML::Key << "adam_beta2" << YAML::Value << c.adam_beta2;
  e << YAML::Key << "adam_epsilon" << YAML::Value << c.adam_epsilon;
  e << YAML::Key << "max_grad_norm" << YAML::Value << c.max_grad_norm;
  e << YAML::Key << "bf16" << YAML::Value << c.bf16 << YAML::Comment("bf16: " + c.bf16_setting);
  e << YAML::Key << "fp16" << YAML::Value << c.fp16;
  e << YAML::Key << "tf32" << YAML::Value << c.tf32 << YAML::Comment("tf32: " + c.tf32_setting);
  if (c.gradient_checkpointing_offload) e << YAML::Key << "gradient_checkpointing" << YAML::Value << "offload";
  else e << YAML::Key << "gradient_checkpointing" << YAML::Value << c.gradient_checkpointing;
  put(e, "logging_steps", c.logging_steps);
  put(e, "eval_steps", c.eval_steps);
  put(e, "save_steps", c.save_steps);
  put(e, "save_total_limit", c.save_total_limit);
  put(e, "save_strategy", c.save_strategy);
  put(e, "eval_strategy", c.eval_strategy);
  put(e, "resume_from_checkpoint", c.resume_from_checkpoint);
  e << YAML::Key << "auto_resume_from_checkpoints" << YAML::Value << c.auto_resume_from_checkpoints;
  put(e, "early_stopping_patience", c.early_stopping_patience);
  put(e, "loss_watchdog_threshold", c.loss_watchdog_threshold);
  put(e, "loss_watchdog_patience", c.loss_watchdog_patience);
  if (!c.attn_requested.empty()) e << YAML::Key << "attn_implementation" << YAML::Value << c.attn_requested;
  e << YAML::Key << "strict" << YAML::Value << c.strict;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string format_plan(const Config& c, const Plan& p) {
  std::ostringstream os;
  const auto& m = p.model;
  os << "model: " << m.model_type << (p.architecture.empty() ? "" : " (" + p.architecture + ")") << ", "
     << m.num_layers << " layers, hidden " << m.hidden_size << ", vocab " << m.vocab_size << "; from "
     << c.model.dir << " (" << c.model.how << ")\n";
  os << "parameters: " << with_commas(p.params.total) << "\n";
  if (c.adapter.empty()) {
    os << "trainable: " << with_commas(p.params.trainable) << " (full fine-tune)\n";
  } else if (c.adapter != "lora" && c.adapter != "qlora" && c.adapter != "dora") {
    os << "trainable: counted when the " << c.adapter << " adapter attaches (train prints it)\n";
  } else {
    std::string targets;
    for (const auto& t : p.params.targeted) targets += (targets.empty() ? "" : ", ") + t;
    const double pct = 100.0 * static_cast<double>(p.params.trainable) / static_cast<double>(p.params.total);
    os << "trainable: " << with_commas(p.params.trainable) << " (" << num(std::round(pct * 1000) / 1000) << "%: "
       << (c.peft_use_dora || c.adapter == "dora" ? "DoRA" : "LoRA") << " r=" << c.lora_r << " alpha=" << num(c.lora_alpha)
       << (c.peft_use_rslora ? " rsLoRA" : "") << " on " << p.params.targeted_layers << " linear layers: " << targets
       << (c.lora_modules_to_save.empty() ? "" : "; plus modules_to_save") << ")\n";
  }
  os << "attention: " << c.attention_path
     << (c.attention_path == "sdpa" ? " (scaled_dot_product_attention; eager where soft-capping needs it)" : " (reference)")
     << "; asked for " << (c.attn_requested.empty() ? "nothing (default sdpa)" : c.attn_requested) << "\n";
  os << "precision: " << (c.bf16 ? "bfloat16" : c.fp16 ? "float16" : "float32") << " (bf16: " << c.bf16_setting
     << ", fp16: " << (c.fp16 ? "true" : "false") << ", tf32: " << (c.tf32 ? "on" : "off") << ")\n";
  os << "batch: micro_batch_size " << c.micro_batch_size << " x gradient_accumulation_steps "
     << c.gradient_accumulation_steps << " x world_size " << c.world_size << " = " << c.batch_size
     << " samples per optimizer step; eval_batch_size " << c.eval_batch_size << "\n";
  os << "sequence: sequence_len " << c.sequence_len << ", " << (c.sample_packing ? "packed (whole samples, first-fit decreasing, into rows of micro_batch_size x sequence_len tokens)" : "unpacked")
     << ", over-long samples: " << c.excess_length_strategy << "\n";
  os << "optimizer: " << c.optimizer << " lr " << num(c.learning_rate) << ", weight_decay " << num(c.weight_decay)
     << ", betas (" << num(c.adam_beta1) << ", " << num(c.adam_beta2) << "), eps " << num(c.adam_epsilon)
     << ", max_grad_norm " << num(c.max_grad_norm) << "\n";
  os << "schedule: " << c.lr_scheduler
     << (c.cosine_min_lr_ratio ? " (min lr ratio " + num(*c.cosine_min_lr_ratio) + ")" : "") << ", "
     << (c.max_steps ? "max_steps " + std::to_string(*c.max_steps) : "num_epochs " + num(c.num_epochs)) << ", warmup "
     << (c.warmup_steps ? std::to_string(*c.warmup_steps) + " steps"
                        : c.warmup_ratio ? num(*c.warmup_ratio) + " of the steps" : "min(3% of the steps, 100)")
     << "\n";
  auto steps = [](const std::optional<double>& s) {
    if (!s) return std::string("never");
    return *s < 1.0 ? "every " + num(*s) + " of the total steps" : "every " + num(*s) + " steps";
  };
  os << "checkpoints: " << steps(c.save_steps) << (c.save_total_limit ? ", keep " + std::to_string(*c.save_total_limit) : "")
     << " and at the end, into " << c.output_dir << "\n";
  os << "evaluation: " << (c.val_set_size > 0 ? "val_set_size " + num(c.val_set_size) + ", " : "")
     << (c.test_datasets.empty() ? "" : std::to_string(c.test_datasets.size()) + " test dataset(s), ")
     << steps(c.eval_steps) << "\n";
  if (p.data) {
    // Packed, a micro-batch is one row: derive_schedule's samples / micro_batch_size is rows.
    const bool packed = c.sample_packing && p.data->packed_rows > 0;
    const Schedule s = derive_schedule(c, packed ? p.data->packed_rows * c.micro_batch_size : p.data->train_samples);
    os << "data: " << p.data->train_samples << " train / " << p.data->eval_samples << " eval samples, "
       << p.data->tokens << " tokens (" << p.data->trainable_tokens << " trained), " << p.data->dropped
       << " dropped, " << p.data->truncated << " truncated\n";
    if (packed)
      os << "packing: " << p.data->packed_rows << " rows of " << c.micro_batch_size * c.sequence_len
         << " tokens per epoch, efficiency " << num(std::round(p.data->packing_efficiency * 10000) / 10000) << "\n";
    os << "steps: " << s.total_steps << " total, warmup " << s.warmup_steps << ", logging every "
       << s.logging_steps << "\n";
  } else {
    os << "data: " << c.datasets.size() << " dataset(s); samples, tokens and steps need a prepared dataset "
       << "(axolotl preprocess) or --data\n";
  }
  return os.str();
}

}  // namespace axl::config
