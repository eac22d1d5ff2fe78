#pragma once
// Locating the references tests/peers/refs-train.sh writes under $AXL_PEER_FIXTURES/train.
// Missing: skipped, or a failure under AXOLOTL_REQUIRE_FIXTURES=1.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/fixtures.h"

#define AXL_REQUIRE_TRAIN_REF(path_var, file) AXL_REQUIRE_PEER(path_var, std::string("train/") + (file))
