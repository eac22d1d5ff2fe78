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

std::optional<TargetModules> targets_from_config(const nlohmann::json& j, const std::string& source,
                                                 bool with_layers) {
  auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
  std::optional<TargetModules> out;
  if (has("target_modules")) out = TargetModules::from_json(j["target_modules"], source);
  TargetModules t = out ? *out : TargetModules();
  if (has("exclude_modules")) {
    const auto& e = j["exclude_modules"];
    if (e.is_string()) t.exclude_regex = e.get<std::string>();
    else t.exclude = e.get<std::vector<std::string>>();
  }
  if (with_layers && has("layers_to_transform")) {
    const auto& l = j["layers_to_transform"];
    if (l.is_number_integer()) t.layers_to_transform = {l.get<int64_t>()};
    else t.layers_to_transform = l.get<std::vector<int64_t>>();
  }
  if (with_layers && has("layers_pattern")) {
    const auto& p = j["layers_pattern"];
    if (p.is_string()) t.layers_pattern = p.get<std::string>();
    else if (p.is_array() && p.size() == 1) t.layers_pattern = p[0].get<std::string>();
    else throw Error(source + ": layers_pattern " + p.dump() + " is not supported (one name only)");
  }
  // Only filters given: a List whose names come from the model type when attaching.
  if (out || !t.exclude.empty() || t.exclude_regex || !t.layers_to_transform.empty() || t.layers_pattern) return t;
  return std::nullopt;
}

void targets_to_config(const std::optional<TargetModules>& t, nlohmann::json& j, bool with_layers) {
  nlohmann::json exclude = nullptr;
  if (t && t->exclude_regex) exclude = *t->exclude_regex;
  else if (t && !t->exclude.empty()) exclude = t->exclude;
  j["exclude_modules"] = exclude;
  j["target_modules"] = t ? t->to_json() : nlohmann::json(nullptr);
  if (!with_layers) return;
  j["layers_pattern"] = t && t->layers_pattern ? nlohmann::json(*t->layers_pattern) : nlohmann::json(nullptr);
  j["layers_to_transform"] =
      t && !t->layers_to_transform.empty() ? nlohmann::json(t->layers_to_transform) : nlohmann::json(nullptr);
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
