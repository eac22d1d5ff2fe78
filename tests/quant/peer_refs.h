#pragma once
// Finding the references tests/peers/refs-quant.sh writes ($AXL_PEER_FIXTURES/quant).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/fixtures.h"

#define AXL_REQUIRE_QUANT_PEER(dir_var)                                 \
  AXL_REQUIRE_PEER(axl_quant_codec_cases_, "quant/codec_cases.json"); \
  const std::string dir_var = std::filesystem::path(axl_quant_codec_cases_).parent_path().string()
