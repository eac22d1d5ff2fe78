#pragma once
// How every config-reading subcommand (validate, train, inference) loads its YAML: the
// overrides left on its command line applied, `bf16: auto` resolved for the device, and the
// warnings and unused keys printed to stderr once.
#include <iostream>
#include <string>
#include <vector>

#include "axl/config/load_config.h"

namespace axl::cli {

inline config::LoadResult load_command_config(const std::string& path, const std::vector<std::string>& overrides,
                                              const std::string& device) {
  config::LoadOptions lo;
  lo.overrides = overrides;
  lo.device = device.rfind("cuda:", 0) == 0 ? "cuda" : device;  // cuda:N resolves as cuda
  config::LoadResult loaded = config::load_config(path, lo);
  for (const auto& w : loaded.warnings) std::cerr << "axolotl: warning: " << w << "\n";
  for (const auto& u : loaded.unused) std::cerr << "axolotl: unused: " << u << "\n";
  return loaded;
}

}  // namespace axl::cli
