// base_model as a local folder or a hub id found offline in a fake Hugging Face cache.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "axl/config/model_source.h"
#include "axl/core/error.h"
#include "tests/fixtures.h"

namespace fs = std::filesystem;
using testing::HasSubstr;

namespace {

const std::string kCommitMain = "0123456789abcdef0123456789abcdef01234567";
const std::string kCommitOld = "89abcdef0123456789abcdef0123456789abcdef";

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// <cache>/models--org--tiny with two snapshots, refs/main and refs/v1.
std::string make_cache() {
  fs::path cache = axl::test::scratch_dir("hf-cache");
  fs::path repo = cache / "models--org--tiny";
  write(repo / "refs" / "main", kCommitMain);
  write(repo / "refs" / "v1", kCommitOld + "\n");
  write(repo / "snapshots" / kCommitMain / "config.json", "{}");
  write(repo / "snapshots" / kCommitOld / "config.json", "{}");
  return cache.string();
}

struct EnvGuard {
  std::string name;
  explicit EnvGuard(std::string n, const std::string& value) : name(std::move(n)) { setenv(name.c_str(), value.c_str(), 1); }
  ~EnvGuard() { unsetenv(name.c_str()); }
};

}  // namespace

TEST(ModelSource, CacheDirFollowsHuggingFaceOrder) {
  EnvGuard home("HF_HOME", "/tmp/hfhome");
  EXPECT_EQ(axl::config::hf_hub_cache_dir(), "/tmp/hfhome/hub");
  EnvGuard cache("HF_HUB_CACHE", "/tmp/hubcache");
  EXPECT_EQ(axl::config::hf_hub_cache_dir(), "/tmp/hubcache");
}

TEST(ModelSource, HubIdResolvesThroughRefsAndRevisions) {
  EnvGuard env("HF_HUB_CACHE", make_cache());
  auto main = axl::config::resolve_model_source("org/tiny", std::nullopt, "base_model", "cfg.yml:1:13");
  EXPECT_EQ(fs::path(main.dir).filename().string(), kCommitMain);
  EXPECT_THAT(main.how, HasSubstr("revision main"));
  auto v1 = axl::config::resolve_model_source("org/tiny", std::string("v1"), "base_model", "cfg.yml:1:13");
  EXPECT_EQ(fs::path(v1.dir).filename().string(), kCommitOld);
  auto hash = axl::config::resolve_model_source("org/tiny", kCommitOld, "base_model", "cfg.yml:1:13");
  EXPECT_EQ(hash.dir, v1.dir);
}

TEST(ModelSource, MissingModelSaysWhereWeLooked) {
  const std::string cache = make_cache();
  EnvGuard env("HF_HUB_CACHE", cache);
  try {
    axl::config::resolve_model_source("org/absent", std::nullopt, "base_model", "cfg.yml:1:13");
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    std::string m = e.what();
    EXPECT_THAT(m, HasSubstr("cfg.yml:1:13: base_model 'org/absent': not a local directory"));
    EXPECT_THAT(m, HasSubstr(cache + "/models--org--absent/refs/main"));
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
  EXPECT_THROW(axl::config::resolve_model_source("org/tiny", std::string("v9"), "base_model", "x"), axl::Error);
  EXPECT_THROW(axl::config::resolve_model_source("./no/such/dir", std::nullopt, "base_model", "x"), axl::Error);
}

TEST(ModelSource, LocalDirectoryWins) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  auto s = axl::config::resolve_model_source(dir, std::nullopt, "base_model", "x");
  EXPECT_EQ(s.how, "local directory");
  EXPECT_TRUE(fs::exists(s.dir + "/config.json"));
}
