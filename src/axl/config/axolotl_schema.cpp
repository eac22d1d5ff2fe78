#include "axl/config/axolotl_schema.h"

#include <algorithm>
#include <iterator>

#include "axl/config/axolotl_schema_keys.inc"

namespace axl::config::schema {

namespace {

template <std::size_t N>
std::vector<std::string> list(const char* const (&items)[N]) {
  return std::vector<std::string>(std::begin(items), std::end(items));
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const char* axolotl_version() { return AXL_AXOLOTL_SCHEMA_VERSION; }

const std::vector<std::string>& top_level_keys() {
  static const auto v = list(kAxolotlTopLevelKeys);
  return v;
}
const std::vector<std::string>& dataset_keys() {
  static const auto v = list(kAxolotlDatasetKeys);
  return v;
}
const std::vector<std::string>& chat_templates() {
  static const auto v = list(kAxolotlChatTemplates);
  return v;
}
const std::vector<std::string>& optimizers() {
  static const auto v = [] {
    auto all = list(kTransformersOptimizers);
    for (const char* name : kAxolotlCustomOptimizers) all.emplace_back(name);
    return all;
  }();
  return v;
}
const std::vector<std::string>& lr_schedulers() {
  // Axolotl builds one_cycle and rex itself; every other name goes to transformers.
  static const auto v = [] {
    auto all = list(kTransformersSchedulers);
    all.emplace_back("one_cycle");
    all.emplace_back("rex");
    return all;
  }();
  return v;
}
const std::vector<std::string>& attn_implementations() {
  static const auto v = list(kAxolotlAttnImplementations);
  return v;
}

bool is_top_level_key(const std::string& key) { return contains(top_level_keys(), key); }
bool is_dataset_key(const std::string& key) { return contains(dataset_keys(), key); }
bool is_user_defined_type_key(const std::string& key) {
  static const auto v = list(kAxolotlUserDefinedTypeKeys);
  return contains(v, key);
}
bool is_special_tokens_key(const std::string& key) {
  static const auto v = list(kAxolotlSpecialTokensKeys);
  return contains(v, key);
}
bool is_chat_template(const std::string& name) {
  static const std::string fallback = "tokenizer_default_fallback_";
  if (name.rfind(fallback, 0) == 0) return contains(chat_templates(), name.substr(fallback.size()));
  return contains(chat_templates(), name);
}
bool is_rl_type(const std::string& name) {
  static const auto v = list(kAxolotlRLTypes);
  return contains(v, name);
}
bool is_optimizer(const std::string& name) { return contains(optimizers(), name); }
bool is_lr_scheduler(const std::string& name) { return contains(lr_schedulers(), name); }
bool is_attn_implementation(const std::string& name) {
  return name.find('/') != std::string::npos || contains(attn_implementations(), name);
}

std::string closest(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  std::size_t best_d = word.size() / 3 + 2;  // farther than this is no hint
  for (const auto& c : choices) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

}  // namespace axl::config::schema
