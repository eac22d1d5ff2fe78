#pragma once
// Finding the references tests/peers/refs-quant.sh writes ($AXL_PEER_FIXTURES/quant).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/fixtures.h"

#define AXL_REQUIRE_QUANT_PEER(dir_var)                                                         \
  const char* peer_env_ = std::getenv("AXL_PEER_FIXTURES");                                     \
  const std::string dir_var = peer_env_ ? std::string(peer_env_) + "/quant" : std::string();    \
  if (dir_var.empty() || !std::filesystem::exists(dir_var + "/codec_cases.json")) {             \
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir_var;         \
    GTEST_SKIP() << "peer reference quant not generated (run tests/peers/refs-quant.sh; set AXL_PEER_FIXTURES)"; \
  }
