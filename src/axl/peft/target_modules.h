#pragma once
// Which modules an adapter attaches to, decided as PEFT does: a list of names matches a module
// whose path equals a name or ends with "." + name; a string is a regex that must match the
// whole path; "all-linear" takes every linear layer except the output head. layers_to_transform
// then keeps only the listed decoder layers. No libtorch here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace axl::peft {

struct TargetModules {
  enum class Kind { List, Regex, AllLinear };
  Kind kind = Kind::List;
  std::vector<std::string> names;  // Kind::List
  std::string regex;               // Kind::Regex
  std::vector<std::string> exclude;   // exclude_modules as a list ...
  std::optional<std::string> exclude_regex;  // ... or as a regex string
  std::vector<int64_t> layers_to_transform;  // empty: every layer
  std::optional<std::string> layers_pattern;

  // From adapter_config.json's target_modules (a list, a regex string or "all-linear").
  static TargetModules from_json(const nlohmann::json& target_modules, const std::string& source);
  nlohmann::json to_json() const;  // target_modules as PEFT writes it

  // `path` is the module path inside the Hugging Face model; `is_output_head` marks lm_head.
  bool matches(const std::string& path, bool is_output_head) const;
};

// The decoder layer index in a module path (model.layers.3.mlp.up_proj -> 3), as PEFT finds it:
// the number after `layers_pattern` when given, else the first ".<name>.<digits>." component.
std::optional<int64_t> layer_index(const std::string& path, const std::optional<std::string>& layers_pattern);

// The target fields of an adapter_config.json (target_modules, exclude_modules and, unless
// `with_layers` is false, layers_to_transform / layers_pattern) as one TargetModules, shared by
// every method that targets layers. nullopt: nothing set, the model type's defaults apply; a
// List with no names: only filters set, names filled in from the defaults when attaching.
std::optional<TargetModules> targets_from_config(const nlohmann::json& config, const std::string& source,
                                                 bool with_layers = true);
// Writes those fields as PEFT does (null where unset).
void targets_to_config(const std::optional<TargetModules>& targets, nlohmann::json& config, bool with_layers = true);

// rank_pattern / alpha_pattern keys: regexes matched against the end of the path, PEFT's
// (.*\.)?(key)$ rule; the first matching key wins.
bool pattern_key_matches(const std::string& key, const std::string& path);

}  // namespace axl::peft
