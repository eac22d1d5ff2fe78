#pragma once
// Helpers for the config tests: load YAML text without touching the disk for models, and
// catch the one-line error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "axl/config/load_config.h"
#include "axl/core/error.h"

namespace axl::test {

inline config::LoadResult load_text(const std::string& yaml, std::vector<std::string> overrides = {}) {
  config::LoadOptions o;
  o.overrides = std::move(overrides);
  o.resolve_models = false;
  return config::load_config_text(yaml, "cfg.yml", o);
}

// The axl::Error message of loading `yaml`, or "" when it loads.
inline std::string load_error(const std::string& yaml, std::vector<std::string> overrides = {}) {
  try {
    load_text(yaml, std::move(overrides));
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

// A minimal valid config the tests add lines to.
inline std::string base_yaml() {
  return "base_model: some/model\n"
         "learning_rate: 0.0002\n"
         "datasets:\n"
         "  - path: data.jsonl\n"
         "    type: alpaca\n";
}

}  // namespace axl::test
