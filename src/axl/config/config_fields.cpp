// Typed reads of the top-level keys and of dataset entries into Config.
#include <algorithm>

#include "axl/config/axolotl_schema.h"
#include "axl/config/config_fields.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"

namespace axl::config {

namespace {

std::string join(const std::vector<std::string>& v, std::size_t max_items = 12) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max_items; ++i) s += (s.empty() ? "" : ", ") + v[i];
  if (v.size() > max_items) s += ", ...";
  return s;
}

// A value from a closed set; the error lists the choices and the nearest one.
std::optional<std::string> opt_choice(const Reader& r, const char* key, const std::vector<std::string>& choices) {
  auto v = r.opt_string(key);
  if (!v || std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  std::string guess = schema::closest(*v, choices);
  r.fail(key, "'" + *v + "' is not a valid value" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                  "; use one of: " + join(choices, 40));
}

void check_chat_template(const Reader& r, const char* key, const std::optional<std::string>& name) {
  if (!name || schema::is_chat_template(*name)) return;
  std::string guess = schema::closest(*name, schema::chat_templates());
  r.fail(key, "'" + *name + "' is not one of Axolotl's chat templates" +
                  (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + "; use one of: " +
                  join(schema::chat_templates(), 40) +
                  ", tokenizer_default_fallback_<name>, or `jinja` with chat_template_jinja");
}

UserDefinedType read_user_type(const Origin& origin, const YAML::Node& node, const std::string& path,
                               std::vector<std::string>& warnings) {
  Reader r(origin, node, path);
  for (const auto& kv : node)
    if (!schema::is_user_defined_type_key(kv.first.Scalar()))
      warnings.push_back(origin.where(path + "." + kv.first.Scalar(), kv.first) + ": unknown key '" + path +
                         "." + kv.first.Scalar() + "' in a user-defined prompt type; ignored");
  UserDefinedType t;
  t.system_prompt = r.opt_string("system_prompt");
  t.system_format = r.opt_string("system_format");
  t.field_system = r.opt_string("field_system");
  t.field_instruction = r.opt_string("field_instruction");
  t.field_input = r.opt_string("field_input");
  t.field_output = r.opt_string("field_output");
  t.format = r.opt_string("format");
  t.no_input_format = r.opt_string("no_input_format");
  if (t.no_input_format && t.no_input_format->find("{input}") != std::string::npos)
    r.fail("no_input_format", "must not contain {input}; use `format` for prompts with an input");
  return t;
}

DatasetConfig read_dataset(const Origin& origin, const YAML::Node& node, const std::string& path,
                           std::vector<std::string>& warnings) {
  Reader r(origin, node, path);
  DatasetConfig d;
  d.where = origin.where(path, node);
  auto p = r.opt_string("path");
  if (!p) throw Error(d.where + ": " + path + ": `path` is required (a local file or folder of JSON, JSONL or text)");
  d.path = *p;
  YAML::Node type = node["type"];
  if (type.IsDefined() && type.IsMap()) {
    d.user_type = read_user_type(origin, type, path + ".type", warnings);
  } else {
    d.type = r.get("type", std::string());
    if (d.type.rfind("sharegpt", 0) == 0)
      r.fail("type", "`type: sharegpt.*` was removed from Axolotl; use `type: chat_template` with "
                     "`field_messages: conversations` and `message_property_mappings: {role: from, content: value}`");
  }
  d.data_files = r.opt_string_list("data_files").value_or(std::vector<std::string>{});
  d.split = r.opt_string("split");
  d.name = r.opt_string("name");
  d.ds_type = r.opt_string("ds_type");
  d.revision = r.opt_string("revision");
  d.conversation = r.opt_string("conversation");
  d.chat_template = r.opt_string("chat_template");
  d.chat_template_jinja = r.opt_string("chat_template_jinja");
  check_chat_template(r, "chat_template", d.chat_template);
  d.field = r.opt_string("field");
  d.field_human = r.opt_string("field_human");
  d.field_model = r.opt_string("field_model");
  d.field_messages = r.opt_string("field_messages");
  d.field_tools = r.opt_string("field_tools");
  d.field_thinking = r.opt_string("field_thinking");
  d.template_thinking_key = r.opt_string("template_thinking_key");
  d.message_field_training = r.opt_string("message_field_training");
  d.message_field_training_detail = r.opt_string("message_field_training_detail");
  d.text_column = r.opt_string("text_column");
  d.input_format = r.opt_string("input_format");
  if (auto m = r.opt_string_map("message_property_mappings")) d.message_property_mappings = std::move(*m);
  // The legacy message_field_role/content keys are mappings of role/content.
  for (const char* legacy : {"message_field_role", "message_field_content"}) {
    auto v = r.opt_string(legacy);
    if (!v) continue;
    std::string target = std::string(legacy).substr(14);  // "role" / "content"
    auto it = d.message_property_mappings.find(target);
    if (it != d.message_property_mappings.end() && it->second != *v)
      r.fail(legacy, "conflicts with message_property_mappings." + target + " ('" + it->second +
                         "'); keep only message_property_mappings");
    d.message_property_mappings[target] = *v;
  }
  if (r.has("roles")) {
    YAML::Node roles = node["roles"];
    if (!roles.IsMap()) r.fail("roles", "expected a mapping of role: [source roles], got " + describe(roles));
    Reader rr(origin, roles, path + ".roles");
    for (const auto& kv : roles) {
      const std::string role = kv.first.Scalar();
      d.roles[role] = rr.opt_string_list(role.c_str()).value_or(std::vector<std::string>{});
    }
  }
  d.roles_to_train = r.opt_string_list("roles_to_train");
  static const std::vector<std::string> eos_choices = {"all", "turn", "last", "none"};
  d.train_on_eos = opt_choice(r, "train_on_eos", eos_choices);
  d.train_on_eot = opt_choice(r, "train_on_eot", eos_choices);
  d.drop_system_message = r.opt_bool("drop_system_message");
  d.split_thinking = r.opt_bool("split_thinking");
  d.skip = r.opt_int("skip");
  if (d.skip && *d.skip < 0) r.fail("skip", "must not be negative");
  return d;
}

}  // namespace

std::vector<DatasetConfig> read_datasets(const Origin& origin, const YAML::Node& root, const char* key,
                                         std::vector<std::string>& warnings) {
  std::vector<DatasetConfig> out;
  YAML::Node list = root[key];
  if (is_null(list)) return out;
  Reader r(origin, root, "");
  if (!list.IsSequence())
    r.fail(key, "expected a list of datasets (lines starting with `- path: ...`), got " + describe(list));
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = std::string(key) + "." + std::to_string(i);
    if (!list[i].IsMap())
      throw Error(origin.where(path, list[i]) + ": " + path + ": expected a mapping with at least `path:`, got " +
                  describe(list[i]));
    out.push_back(read_dataset(origin, list[i], path, warnings));
  }
  return out;
}

std::vector<DatasetConfig> read_pretraining_datasets(const Origin& origin, const YAML::Node& root,
                                                     std::vector<std::string>& warnings) {
  YAML::Node node = root["pretraining_dataset"];
  std::vector<DatasetConfig> out;
  if (!is_null(node) && node.IsScalar()) {  // Axolotl also takes a bare path
    DatasetConfig d;
    d.where = origin.where("pretraining_dataset", node);
    d.path = node.Scalar();
    out.push_back(d);
  } else {
    out = read_datasets(origin, root, "pretraining_dataset", warnings);
  }
  for (auto& d : out)
    if (d.type.empty() && !d.user_type) d.type = "pretrain";  // PretrainingDataset's default
  return out;
}

void read_top_level_fields(const Origin& origin, const YAML::Node& root, Config& c) {
  Reader r(origin, root, "");
  auto base = r.opt_string("base_model");
  if (!base) throw Error(origin.file + ": base_model is required: add `base_model: ORG/NAME` or a local model folder");
  c.base_model = *base;
  c.base_model_config = r.get("base_model_config", c.base_model);
  c.tokenizer_config = r.get("tokenizer_config", c.base_model_config);
  c.model_type = r.opt_string("model_type");
  c.tokenizer_type = r.opt_string("tokenizer_type");
  c.model_revision = r.opt_string("model_revision");
  c.trust_remote_code = r.get("trust_remote_code", false);

  c.load_in_8bit = r.get("load_in_8bit", false);
  c.load_in_4bit = r.get("load_in_4bit", false);
  if (r.has("bnb_config_kwargs")) {
    if (!root["bnb_config_kwargs"].IsMap())
      r.fail("bnb_config_kwargs", "must be a map of BitsAndBytesConfig fields, e.g. `bnb_config_kwargs: {bnb_4bit_quant_type: fp4}`");
    c.bnb_config_kwargs = yaml_to_json(root["bnb_config_kwargs"]);
  }
  if (auto a = r.opt_string("adapter")) {
    static const std::vector<std::string> known = {"lora", "qlora", "dora", "ia3", "loha", "lokr", "oft", "boft",
                                                   "vera", "adalora", "prefix_tuning", "prompt_tuning"};
    if (std::find(known.begin(), known.end(), *a) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      r.fail("adapter", "'" + *a + "' is not an adapter; use one of " + list + " (or remove it for a full fine-tune)");
    }
    c.adapter = *a;
  }
  // Axolotl's validate_qlora and model loader: qlora means 4-bit, 8-bit goes with lora.
  if (c.load_in_4bit && c.load_in_8bit) r.fail("load_in_8bit", "cannot be combined with load_in_4bit; choose one");
  if (c.adapter == "qlora" && !c.load_in_4bit) r.fail("adapter", "qlora needs `load_in_4bit: true`");
  if (c.load_in_4bit && c.adapter != "qlora")
    r.fail("load_in_4bit", "4-bit base weights train with `adapter: qlora` (set it, or remove load_in_4bit)");
  if (c.load_in_8bit && c.adapter != "lora")
    r.fail("load_in_8bit", "8-bit base weights train with `adapter: lora` (set it, or remove load_in_8bit)");
  if (r.has("peft")) {
    if (!root["peft"].IsMap()) r.fail("peft", "must be a map of PEFT config fields, e.g. `peft: {init_weights: true}`");
    c.peft = yaml_to_json(root["peft"]);
  }
  c.lora_model_dir = r.opt_string("lora_model_dir");
  c.lora_r = r.opt_positive_int("lora_r").value_or(0);
  c.lora_alpha = r.get("lora_alpha", 0.0);
  c.lora_dropout = r.opt_non_negative("lora_dropout").value_or(0.0);
  if (c.lora_dropout >= 1.0) r.fail("lora_dropout", "must be below 1 (a probability), e.g. 0.05");
  if (r.has("lora_target_modules") && root["lora_target_modules"].IsScalar()) {
    c.lora_target_regex = r.opt_string("lora_target_modules");  // PEFT: one string is a regex
  } else {
    c.lora_target_modules = r.opt_string_list("lora_target_modules").value_or(std::vector<std::string>{});
  }
  c.lora_target_linear = r.get("lora_target_linear", false);
  c.lora_modules_to_save = r.opt_string_list("lora_modules_to_save").value_or(std::vector<std::string>{});
  c.peft_use_rslora = r.get("peft_use_rslora", false);
  c.peft_use_dora = r.get("peft_use_dora", false);

  c.val_set_size = r.opt_non_negative("val_set_size").value_or(0.0);
  if (c.val_set_size >= 1.0 && c.val_set_size != static_cast<double>(static_cast<int64_t>(c.val_set_size)))
    r.fail("val_set_size", "a value of 1 or more is a count of samples and must be whole; use a fraction below 1 or a whole count");
  c.dataset_prepared_path = r.opt_string("dataset_prepared_path");
  c.shuffle_merged_datasets = r.get("shuffle_merged_datasets", true);
  c.seed = r.get("seed", int64_t{42});
  c.sequence_len = r.opt_positive_int("sequence_len").value_or(512);
  c.sample_packing = r.get("sample_packing", false);
  c.pad_to_sequence_len = r.get("pad_to_sequence_len", c.sample_packing);
  c.eval_sample_packing = r.get("eval_sample_packing", c.sample_packing);
  c.excess_length_strategy = opt_choice(r, "excess_length_strategy", {"drop", "truncate", "raise"}).value_or("drop");
  c.min_sample_len = r.get("min_sample_len", int64_t{2});
  c.streaming = r.get("streaming", false);
  c.pretrain_multipack_attn = r.get("pretrain_multipack_attn", true);
  c.pretraining_sample_concatenation = r.opt_bool("pretraining_sample_concatenation");
  c.train_on_inputs = r.get("train_on_inputs", false);
  c.group_by_length = r.get("group_by_length", false);
  c.chat_template = r.opt_string("chat_template");
  c.chat_template_jinja = r.opt_string("chat_template_jinja");
  check_chat_template(r, "chat_template", c.chat_template);
  if (auto m = r.opt_string_map("chat_template_kwargs")) c.chat_template_kwargs = std::move(*m);
  c.default_system_message = r.opt_string("default_system_message");
  c.eot_tokens = r.opt_string_list("eot_tokens").value_or(std::vector<std::string>{});
  c.tokens = r.opt_string_list("tokens").value_or(std::vector<std::string>{});
  if (r.has("special_tokens")) {
    if (!root["special_tokens"].IsMap())
      r.fail("special_tokens", "expected a mapping such as `pad_token: \"<|end_of_text|>\"`, got " +
                                   describe(root["special_tokens"]));
    Reader s(origin, root["special_tokens"], "special_tokens");
    c.special_tokens.bos_token = s.opt_string("bos_token");
    c.special_tokens.eos_token = s.opt_string("eos_token");
    c.special_tokens.pad_token = s.opt_string("pad_token");
    c.special_tokens.unk_token = s.opt_string("unk_token");
    c.special_tokens.additional_special_tokens =
        s.opt_string_list("additional_special_tokens").value_or(std::vector<std::string>{});
  }
  c.output_dir = r.get("output_dir", std::string("./model-out"));

  c.num_epochs = r.opt_non_negative("num_epochs").value_or(1.0);
  c.max_steps = r.opt_positive_int("max_steps");
  if (auto o = opt_choice(r, "optimizer", schema::optimizers())) c.optimizer = *o;
  if (auto s = opt_choice(r, "lr_scheduler", schema::lr_schedulers())) c.lr_scheduler = *s;
  if (auto kwargs = r.opt_string_map("lr_scheduler_kwargs")) {
    Reader k(origin, root["lr_scheduler_kwargs"], "lr_scheduler_kwargs");
    for (const auto& kv : *kwargs) c.lr_scheduler_kwargs[kv.first] = *k.opt_double(kv.first.c_str());
  }
  c.cosine_min_lr_ratio = r.opt_non_negative("cosine_min_lr_ratio");
  if (c.cosine_min_lr_ratio && *c.cosine_min_lr_ratio > 1.0)
    r.fail("cosine_min_lr_ratio", "is a fraction of learning_rate and must be at most 1, e.g. 0.1");
  auto lr = r.opt_non_negative("learning_rate");
  if (!lr) throw Error(origin.file + ": learning_rate is required: add e.g. `learning_rate: 0.0002`");
  c.learning_rate = *lr;
  c.warmup_steps = r.opt_int("warmup_steps");
  if (c.warmup_steps && *c.warmup_steps < 0) r.fail("warmup_steps", "must not be negative");
  c.warmup_ratio = r.opt_non_negative("warmup_ratio");
  if (c.warmup_ratio && *c.warmup_ratio > 1.0) r.fail("warmup_ratio", "is a fraction of the total steps and must be at most 1, e.g. 0.1");
  c.weight_decay = r.opt_non_negative("weight_decay").value_or(0.0);
  c.adam_beta1 = r.get("adam_beta1", 0.9);
  c.adam_beta2 = r.get("adam_beta2", 0.999);
  for (const char* beta : {"adam_beta1", "adam_beta2"}) {
    double b = r.get(beta, 0.9);
    if (b < 0 || b >= 1) r.fail(beta, "must be in [0, 1), e.g. 0.9 or 0.999");
  }
  c.adam_epsilon = r.opt_non_negative("adam_epsilon").value_or(1e-8);
  c.max_grad_norm = r.opt_non_negative("max_grad_norm").value_or(1.0);

  c.gradient_checkpointing_offload =
      r.has("gradient_checkpointing") && r.node("gradient_checkpointing").IsScalar() &&
      r.node("gradient_checkpointing").Scalar() == "offload";
  c.gradient_checkpointing = c.gradient_checkpointing_offload ||
                             (r.has("gradient_checkpointing") && r.get("gradient_checkpointing", false));
  c.lora_mlp_kernel = r.opt_bool("lora_mlp_kernel");
  c.lora_qkv_kernel = r.opt_bool("lora_qkv_kernel");
  c.lora_o_kernel = r.opt_bool("lora_o_kernel");
  c.logging_steps = r.opt_positive_int("logging_steps");
  c.evals_per_epoch = r.opt_int("evals_per_epoch");
  c.saves_per_epoch = r.opt_int("saves_per_epoch");
  c.eval_steps = r.opt_non_negative("eval_steps");
  c.save_steps = r.opt_non_negative("save_steps");
  c.save_total_limit = r.opt_positive_int("save_total_limit");
  c.save_strategy = opt_choice(r, "save_strategy", {"no", "steps", "epoch", "best"});
  c.eval_strategy = opt_choice(r, "eval_strategy", {"no", "steps", "epoch"});
  c.resume_from_checkpoint = r.opt_string("resume_from_checkpoint");
  c.auto_resume_from_checkpoints = r.get("auto_resume_from_checkpoints", false);
  c.early_stopping_patience = r.opt_positive_int("early_stopping_patience");
  c.loss_watchdog_threshold = r.opt_double("loss_watchdog_threshold");
  c.loss_watchdog_patience = r.opt_positive_int("loss_watchdog_patience");
}

}  // namespace axl::config
