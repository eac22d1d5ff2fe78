#include "axl/config/overrides.h"

#include <cctype>

#include "axl/config/axolotl_schema.h"
#include "axl/core/error.h"

namespace axl::config {

namespace {

std::vector<std::string> split_path(const std::string& key) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : key) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c == '-' ? '_' : c);
    }
  }
  parts.push_back(cur);
  return parts;
}

bool is_index(const std::string& s) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

YAML::Node parse_value(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node(text);  // not valid YAML on its own ("a: b: c"): keep it as a string
  }
}

}  // namespace

std::string Override::dotted() const {
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
  return s;
}

std::vector<Override> parse_overrides(const std::vector<std::string>& args) {
  std::vector<Override> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0)
      throw Error("command line: unexpected argument '" + a +
                  "'; overrides look like --learning-rate 1e-4 or --datasets.0.path=data.jsonl");
    Override o;
    std::string key = a.substr(2);
    auto eq = key.find('=');
    if (eq != std::string::npos) {
      o.value = key.substr(eq + 1);
      key.resize(eq);
      o.arg = a;
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
      o.value = args[++i];
      o.arg = a + " " + o.value;
    } else {
      o.value = "true";  // a bare flag
      o.arg = a;
    }
    o.path = split_path(key);
    // --no-x is x=false when x is a key (Axolotl's boolean options are --x/--no-x).
    const std::string& first = o.path[0];
    if (eq == std::string::npos && o.value == "true" && o.path.size() == 1 &&
        first.rfind("no_", 0) == 0 && !schema::is_top_level_key(first) &&
        schema::is_top_level_key(first.substr(3))) {
      o.path[0] = first.substr(3);
      o.value = "false";
    }
    for (const auto& p : o.path)
      if (p.empty()) throw Error("command line: empty key segment in '" + a + "'");
    out.push_back(std::move(o));
  }
  return out;
}

void apply_override(YAML::Node& root, const Override& o) {
  YAML::Node cur = root;
  std::string walked;
  for (std::size_t i = 0; i < o.path.size(); ++i) {
    const std::string& part = o.path[i];
    const bool last = i + 1 == o.path.size();
    walked += (walked.empty() ? "" : ".") + part;
    YAML::Node next;
    if (cur.IsSequence()) {
      if (!is_index(part))
        throw Error("command line (" + o.arg + "): '" + walked + "': that value is a list; use an index such as " +
                    walked.substr(0, walked.size() - part.size()) + "0");
      std::size_t idx = std::stoul(part);
      if (idx > cur.size())
        throw Error("command line (" + o.arg + "): '" + walked + "': the list has " +
                    std::to_string(cur.size()) + " entries; the next new one is index " +
                    std::to_string(cur.size()));
      if (idx == cur.size()) cur.push_back(YAML::Node(YAML::NodeType::Map));
      if (last) {
        cur[idx] = parse_value(o.value);
        return;
      }
      next = cur[idx];
    } else {
      if (!cur.IsMap() && !cur.IsNull())
        throw Error("command line (" + o.arg + "): '" + walked +
                    "': the value above it is a single value, not a mapping or list");
      if (last) {
        cur[part] = parse_value(o.value);
        return;
      }
      if (!cur[part] || cur[part].IsNull())
        cur[part] = YAML::Node(is_index(o.path[i + 1]) ? YAML::NodeType::Sequence : YAML::NodeType::Map);
      next = cur[part];
    }
    cur.reset(next);
  }
}

}  // namespace axl::config
