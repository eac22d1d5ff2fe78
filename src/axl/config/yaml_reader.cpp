#include "axl/config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "axl/core/error.h"

namespace axl::config {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_plain(const YAML::Node& node) { return node.Tag() != "!"; }  // "!" marks a quoted scalar

}  // namespace

std::string Origin::where(const std::string& path, const YAML::Node& node) const {
  // The override of a path, or of any mapping or list above it.
  for (std::string p = path;;) {
    auto it = overridden.find(p);
    if (it != overridden.end()) return "command line (" + it->second + ")";
    auto dot = p.rfind('.');
    if (dot == std::string::npos) break;
    p.resize(dot);
  }
  if (!node.IsDefined() || node.Mark().is_null()) {
    // A mapping an override created (datasets.1 from --datasets.1.path=...).
    auto it = overridden.lower_bound(path + ".");
    if (it != overridden.end() && it->first.compare(0, path.size() + 1, path + ".") == 0)
      return "command line (" + it->second + ")";
    return file;
  }
  const YAML::Mark m = node.Mark();
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

bool is_null(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return true;
  if (node.IsScalar() && is_plain(node)) {
    const std::string& s = node.Scalar();
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
  }
  return false;
}

bool is_truthy(const YAML::Node& node) {
  if (is_null(node)) return false;
  if (node.IsSequence() || node.IsMap()) return node.size() > 0;
  const std::string& s = node.Scalar();
  if (s.empty()) return false;
  if (is_plain(node)) {
    if (auto b = parse_bool(s)) return *b;
    if (auto d = parse_double(s)) return *d != 0.0;
  }
  return true;
}

std::string describe(const YAML::Node& node) {
  if (is_null(node)) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "'" + node.Scalar() + "'";
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) out[kv.first.Scalar()] = yaml_to_json(kv.second);
    return out;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: a string whatever it looks like
  if (is_null(node)) return nullptr;
  if (auto b = parse_bool(text)) return *b;
  if (auto i = parse_int(text)) return *i;
  if (auto d = parse_double(text)) return *d;
  return text;
}

std::optional<bool> parse_bool(const std::string& text) {
  const std::string s = lower(text);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(const std::string& text) {
  std::string s = text;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end && *end == '\0' && errno == 0) return static_cast<int64_t>(v);
  // pydantic takes a float with no fractional part (2.0) as an integer.
  if (auto d = parse_double(text))
    if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9e15)
      return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<double> parse_double(const std::string& text) {
  std::string s = text;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return std::nullopt;
  const std::string l = lower(s);
  if (l == ".inf" || l == "+.inf" || l == "inf") return HUGE_VAL;
  if (l == "-.inf" || l == "-inf") return -HUGE_VAL;
  if (l == ".nan" || l == "nan") return std::nan("");
  // strtod also takes hex floats and "infinity"; YAML numbers are decimal.
  for (char c : l)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-'))
      return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end && *end == '\0') return v;
  return std::nullopt;
}

void Reader::fail(const char* key, const std::string& problem) const {
  throw Error(where(key) + ": " + key_path(key) + ": " + problem);
}

std::optional<bool> Reader::opt_bool(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  if (n.IsScalar())
    if (auto b = parse_bool(n.Scalar())) return b;
  fail(key, "expected true or false, got " + describe(n) + "; write `" + key + ": true` or `" +
                key + ": false`");
}

std::optional<int64_t> Reader::opt_int(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  if (n.IsScalar())
    if (auto v = parse_int(n.Scalar())) return v;
  fail(key, "expected a whole number, got " + describe(n) + "; write e.g. `" + key + ": 2`");
}

std::optional<double> Reader::opt_double(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  // Axolotl converts strings with float() too, so a quoted "2e-4" is a number here as well.
  if (n.IsScalar())
    if (auto v = parse_double(n.Scalar()))
      if (std::isfinite(*v)) return v;
  fail(key, "expected a number, got " + describe(n) + "; write e.g. `" + key + ": 0.0002`");
}

std::optional<std::string> Reader::opt_string(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  if (n.IsScalar()) return n.Scalar();
  fail(key, "expected a single value, got " + describe(n));
}

std::optional<std::vector<std::string>> Reader::opt_string_list(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  if (n.IsScalar()) return std::vector<std::string>{n.Scalar()};
  if (n.IsSequence()) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar() || is_null(n[i]))
        throw Error(origin_.where(key_path(key) + "." + std::to_string(i), n[i]) + ": " +
                    key_path(key) + "[" + std::to_string(i) + "]: expected a string, got " +
                    describe(n[i]));
      out.push_back(n[i].Scalar());
    }
    return out;
  }
  fail(key, "expected a string or a list of strings, got a mapping");
}

std::optional<std::map<std::string, std::string>> Reader::opt_string_map(const char* key) const {
  YAML::Node n = map_[key];
  if (is_null(n)) return std::nullopt;
  if (!n.IsMap()) fail(key, "expected a mapping (`key: value` lines), got " + describe(n));
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar())
      throw Error(origin_.where(key_path(key), kv.second) + ": " + key_path(key) + "." +
                  kv.first.Scalar() + ": expected a single value, got " + describe(kv.second));
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

std::optional<int64_t> Reader::opt_positive_int(const char* key) const {
  auto v = opt_int(key);
  if (v && *v <= 0) fail(key, "must be at least 1, got " + std::to_string(*v));
  return v;
}

std::optional<double> Reader::opt_non_negative(const char* key) const {
  auto v = opt_double(key);
  if (v && *v < 0) fail(key, "must not be negative, got " + describe(map_[key]));
  return v;
}

}  // namespace axl::config
