#pragma once
// Axolotl's own vocabulary, generated from its schema sources (axolotl_schema_keys.inc, made by
// scripts/gen-axolotl-keys.py): config keys, enum values, optimizer and scheduler names. It
// makes "not in Axolotl's schema" exact.
#include <string>
#include <vector>

namespace axl::config::schema {

const char* axolotl_version();

bool is_top_level_key(const std::string& key);
bool is_dataset_key(const std::string& key);
bool is_user_defined_type_key(const std::string& key);
bool is_special_tokens_key(const std::string& key);

bool is_chat_template(const std::string& name);  // also tokenizer_default_fallback_<name>
bool is_rl_type(const std::string& name);
bool is_optimizer(const std::string& name);     // transformers' names + Axolotl's custom ones
bool is_lr_scheduler(const std::string& name);  // transformers' names + one_cycle, rex
bool is_attn_implementation(const std::string& name);  // canonical names or a hub path

const std::vector<std::string>& top_level_keys();
const std::vector<std::string>& dataset_keys();
const std::vector<std::string>& chat_templates();
const std::vector<std::string>& optimizers();
const std::vector<std::string>& lr_schedulers();
const std::vector<std::string>& attn_implementations();

// The closest of `choices` to `word` (edit distance), or "" when nothing is close: for
// "did you mean ...?" hints.
std::string closest(const std::string& word, const std::vector<std::string>& choices);

}  // namespace axl::config::schema
