#pragma once
// Loading an Axolotl YAML config: command-line overrides, key checks against Axolotl's schema,
// typed values, Axolotl's defaults, derived values and exclusions, model folders.
//
// Errors (axl::Error, one line, exit 2) name file:line:column (or the override) and the fix.
// A key Axolotl has but we do not implement stops the load when it is set to a truthy value;
// a key outside Axolotl's schema is a warning (an error with `strict: true`).
#include <string>
#include <vector>

#include "axl/config/config.h"

namespace axl::config {

struct LoadOptions {
  std::vector<std::string> overrides;  // e.g. {"--learning-rate", "1e-4", "--datasets.0.path=x"}
  std::string device = "cpu";          // cpu or cuda: what `bf16: auto` resolves against
  bool resolve_models = true;          // find base_model etc. on disk (or in the HF cache)
};

struct LoadResult {
  Config config;
  std::vector<std::string> warnings;  // "where: message"
  std::vector<std::string> unused;    // "key (where): why it changes nothing here"
};

LoadResult load_config(const std::string& path, const LoadOptions& options = {});
// The same from YAML text; `name` stands for the file in messages.
LoadResult load_config_text(const std::string& yaml_text, const std::string& name,
                            const LoadOptions& options = {});

// The optimizer and scheduler names the trainer implements (a subset of Axolotl's).
bool optimizer_implemented(const std::string& name);
bool lr_scheduler_implemented(const std::string& name);

}  // namespace axl::config
