#pragma once
// Locating test fixtures. Tests that need $AXOLOTL_FIXTURES skip with a message when it is
// unset; with AXOLOTL_REQUIRE_FIXTURES=1 (set by .ci/run) a missing fixture is a failure.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace axl::test {

inline std::string fixtures_dir() {
  const char* d = std::getenv("AXOLOTL_FIXTURES");
  return d ? std::string(d) : std::string();
}

inline bool fixtures_required() {
  const char* r = std::getenv("AXOLOTL_REQUIRE_FIXTURES");
  return r && std::string(r) == "1";
}

// A scratch folder unique to the running test, removed first if it exists.
inline std::string scratch_dir(const std::string& name) {
  auto base = std::filesystem::temp_directory_path() / ("axl-test-" + std::to_string(::getpid()));
  auto dir = base / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace axl::test

// Skips (or fails under AXOLOTL_REQUIRE_FIXTURES=1) when the fixture path is missing.
#define AXL_REQUIRE_FIXTURE(path_var, rel)                                               \
  std::string path_var = axl::test::fixtures_dir() + "/" + (rel);                       \
  if (axl::test::fixtures_dir().empty() || !std::filesystem::exists(path_var)) {         \
    if (axl::test::fixtures_required()) FAIL() << "missing fixture " << path_var;        \
    GTEST_SKIP() << "fixture " << (rel) << " not found (set AXOLOTL_FIXTURES)";          \
  }

// $AXL_PEER_FIXTURES/<rel>, made by scripts/make-peer-refs.sh; skips (fails under
// AXOLOTL_REQUIRE_FIXTURES=1) when it is missing.
#define AXL_REQUIRE_PEER(path_var, rel)                                                    \
  const char* peer_env_ = std::getenv("AXL_PEER_FIXTURES");                                \
  std::string path_var = peer_env_ ? std::string(peer_env_) + "/" + (rel) : std::string(); \
  if (path_var.empty() || !std::filesystem::exists(path_var)) {                            \
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << (rel);      \
    GTEST_SKIP() << "peer reference " << (rel) << " not generated (run scripts/make-peer-refs.sh, set AXL_PEER_FIXTURES)"; \
  }
