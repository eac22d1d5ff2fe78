#pragma once
// Typed reads of YAML values with errors that say where (file:line:column, or the command-line
// override that set the value) and how to fix it. Plain scalars follow YAML 1.1 as PyYAML
// reads Axolotl configs: yes/no/on/off are booleans, `~`/`null`/empty are null.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace axl::config {

// Where values came from: the config file, and the dotted paths that overrides replaced.
struct Origin {
  std::string file;
  std::map<std::string, std::string> overridden;  // "datasets.0.path" -> "--datasets.0.path=x"

  // "file:line:col", or "command line (--x=...)" for an overridden value (or one inside it).
  std::string where(const std::string& path, const YAML::Node& node) const;
};

bool is_null(const YAML::Node& node);  // missing, null, `~`, or an empty plain scalar
// Python truthiness of the value Axolotl would see: null, false, 0, "" and empty lists/maps
// are falsy.
bool is_truthy(const YAML::Node& node);
// The scalar as text, or "a list"/"a mapping" for error messages.
std::string describe(const YAML::Node& node);

// Reads one key of a mapping; `path` is the dotted path of the mapping ("" at the top level).
class Reader {
 public:
  Reader(const Origin& origin, const YAML::Node& map, std::string path)
      : origin_(origin), map_(map), path_(std::move(path)) {}

  bool has(const char* key) const { return !is_null(map_[key]); }
  YAML::Node node(const char* key) const { return map_[key]; }
  std::string key_path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string where(const char* key) const { return origin_.where(key_path(key), map_[key]); }
  [[noreturn]] void fail(const char* key, const std::string& problem) const;

  std::optional<bool> opt_bool(const char* key) const;
  std::optional<int64_t> opt_int(const char* key) const;
  std::optional<double> opt_double(const char* key) const;
  std::optional<std::string> opt_string(const char* key) const;
  // A string or a list of strings (one string becomes a list of one).
  std::optional<std::vector<std::string>> opt_string_list(const char* key) const;
  std::optional<std::map<std::string, std::string>> opt_string_map(const char* key) const;

  bool get(const char* key, bool dflt) const { return opt_bool(key).value_or(dflt); }
  int64_t get(const char* key, int64_t dflt) const { return opt_int(key).value_or(dflt); }
  double get(const char* key, double dflt) const { return opt_double(key).value_or(dflt); }
  std::string get(const char* key, const std::string& dflt) const {
    return opt_string(key).value_or(dflt);
  }

  // Integers/numbers that must be positive (> 0) or non-negative (>= 0).
  std::optional<int64_t> opt_positive_int(const char* key) const;
  std::optional<double> opt_non_negative(const char* key) const;

 private:
  const Origin& origin_;
  const YAML::Node map_;  // const: a non-const operator[] would add the key
  std::string path_;
};

// A YAML node as JSON: scalars become null, booleans, integers or numbers where YAML 1.1
// reads them so (quoted scalars stay strings), else strings; maps and sequences recurse.
nlohmann::json yaml_to_json(const YAML::Node& node);

// Parsing a scalar the way YAML 1.1 does; nullopt when it is not one.
std::optional<bool> parse_bool(const std::string& text);
std::optional<int64_t> parse_int(const std::string& text);
std::optional<double> parse_double(const std::string& text);

}  // namespace axl::config
