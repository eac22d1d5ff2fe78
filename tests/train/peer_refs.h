#pragma once
// Locating the references tests/peers/refs-train.sh writes under $AXL_PEER_FIXTURES/train.
// Missing: skipped, or a failure under AXOLOTL_REQUIRE_FIXTURES=1.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/fixtures.h"

#define AXL_REQUIRE_TRAIN_REF(path_var, file)                                              \
  const char* axl_peer_env_ = std::getenv("AXL_PEER_FIXTURES");                             \
  std::string path_var = axl_peer_env_ ? std::string(axl_peer_env_) + "/train/" + (file)    \
                                       : std::string();                                    \
  if (path_var.empty() || !std::filesystem::exists(path_var)) {                             \
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference train/" << (file); \
    GTEST_SKIP() << "peer reference train/" << (file) << " not generated (set AXL_PEER_FIXTURES)"; \
  }
