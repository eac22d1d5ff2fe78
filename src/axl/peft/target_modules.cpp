#include "axl/peft/target_modules.h"

#include <regex>

#include "axl/core/error.h"

namespace axl::peft {

namespace {

bool ends_with_module(const std::string& path, const std::string& name) {
  if (path == name) return true;
  return path.size() > name.size() && path.compare(path.size() - name.size(), name.size(), name) == 0 &&
         path[path.size() - name.size() - 1] == '.';
}

std::regex compile(const std::string& pattern, const std::string& what) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error(what + ": invalid regular expression '" + pattern + "' (" + e.what() + ")");
  }
}

}  // namespace

TargetModules TargetModules::from_json(const nlohmann::json& j, const std::string& source) {
  TargetModules t;
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s == "all-linear") {
      t.kind = Kind::AllLinear;
    } else {
      t.kind = Kind::Regex;
      t.regex = s;
      compile(s, source + ": target_modules");
    }
  } else if (j.is_array()) {
    t.kind = Kind::List;
    for (const auto& n : j) {
      if (!n.is_string()) throw Error(source + ": target_modules must hold strings");
      t.names.push_back(n.get<std::string>());
    }
    if (t.names.empty()) throw Error(source + ": target_modules is an empty list");
  } else {
    throw Error(source + ": target_modules must be a list of module names or a regex string");
  }
  return t;
}

nlohmann::json TargetModules::to_json() const {
  switch (kind) {
    case Kind::AllLinear: return "all-linear";
    case Kind::Regex: return regex;
    case Kind::List: return names;
  }
  return nullptr;
}

std::optional<int64_t> layer_index(const std::string& path, const std::optional<std::string>& layers_pattern) {
  std::smatch m;
  if (layers_pattern) {
    std::regex re(".*\\." + *layers_pattern + "\\.(\\d+)\\..*");
    if (std::regex_match(path, m, re)) return std::stoll(m[1].str());
    return std::nullopt;
  }
  static const std::regex re(".*\\.[^.]*\\.(\\d+)\\..*");
  if (std::regex_match(path, m, re)) return std::stoll(m[1].str());
  return std::nullopt;
}

bool pattern_key_matches(const std::string& key, const std::string& path) {
  return std::regex_match(path, compile("(.*\\.)?(" + key + ")", "rank_pattern/alpha_pattern key"));
}

bool TargetModules::matches(const std::string& path, bool is_output_head) const {
  bool hit = false;
  switch (kind) {
    case Kind::AllLinear: hit = !is_output_head; break;
    case Kind::Regex: hit = std::regex_match(path, compile(regex, "target_modules")); break;
    case Kind::List:
      for (const auto& n : names) hit = hit || ends_with_module(path, n);
      break;
  }
  if (!hit) return false;
  for (const auto& n : exclude)
    if (ends_with_module(path, n)) return false;
  if (exclude_regex && std::regex_match(path, compile(*exclude_regex, "exclude_modules"))) return false;
  // PEFT applies layers_to_transform to list targets only; a regex already says which layers.
  if (!layers_to_transform.empty() && kind != Kind::Regex) {
    auto idx = layer_index(path, layers_pattern);
    if (!idx) return false;
    bool keep = false;
    for (int64_t l : layers_to_transform) keep = keep || l == *idx;
    return keep;
  }
  return true;
}

}  // namespace axl::peft
