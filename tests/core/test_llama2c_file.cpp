#include <gtest/gtest.h>

#include <fstream>

#include "axl/core/error.h"
#include "axl/models/llama2c_file.h"
#include "tests/fixtures.h"

namespace {

TEST(Llama2c, ReadsStories260KHeader) {
  AXL_REQUIRE_FIXTURE(path, "llama2c-stories260K/stories260K.bin");
  auto ck = axl::models::read_llama2c(path);
  const auto& c = ck.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ(ck.tensors.at("wk").shape, (std::vector<int64_t>{5, 32, 64}));
}

TEST(Llama2c, V1RoundTripsToTheSameWeights) {
  AXL_REQUIRE_FIXTURE(path, "llama2c-stories260K/stories260K.bin");
  auto v0 = axl::models::read_llama2c(path);
  std::string dir = axl::test::scratch_dir("l2c_v1");
  axl::models::write_llama2c_v1(dir + "/v1.bin", v0);
  auto v1 = axl::models::read_llama2c(dir + "/v1.bin");
  EXPECT_EQ(v1.config.version, 1);
  for (const auto& [name, t] : v0.tensors) EXPECT_EQ(v1.tensors.at(name).data, t.data) << name;
}

TEST(Llama2c, RejectsTruncatedAndGarbage) {
  AXL_REQUIRE_FIXTURE(path, "llama2c-stories260K/stories260K.bin");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string dir = axl::test::scratch_dir("l2c_bad");
  std::ofstream(dir + "/cut.bin", std::ios::binary).write(bytes.data(), 5000);
  EXPECT_THROW(axl::models::read_llama2c(dir + "/cut.bin"), axl::Error);
  std::ofstream(dir + "/junk.bin", std::ios::binary) << "this is not a checkpoint at all, no";
  EXPECT_THROW(axl::models::read_llama2c(dir + "/junk.bin"), axl::Error);
}

}  // namespace
