#pragma once
// Command-line overrides of any config key, Axolotl-style: `--learning-rate 1e-4`,
// `--learning_rate=1e-4`, `--datasets.0.path=data.jsonl`, `--sample-packing` (true),
// `--no-sample-packing` (false). Values are parsed as YAML (so `2` is a number and
// `[q_proj,v_proj]` a list); dashes in key names become underscores.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace axl::config {

struct Override {
  std::vector<std::string> path;  // {"datasets", "0", "path"}
  std::string value;              // YAML text
  std::string arg;                // the argument(s) as given, for messages
  std::string dotted() const;
};

// Throws axl::Error for an argument that is not an override (no leading --).
std::vector<Override> parse_overrides(const std::vector<std::string>& args);

// Sets each override in `root` (a mapping), creating mappings and appending list entries as
// needed (index == size appends). Throws axl::Error when a path crosses a scalar or skips
// past the end of a list.
void apply_override(YAML::Node& root, const Override& o);

}  // namespace axl::config
