// Our loader on the tokenizer files that `axolotl convert gguf` wrote (SmolLM2's gpt2 BPE and
// stories260K's llama vocabulary in a GGUF), against the live `tokenizers` reading the same
// files: same ids with and without special tokens, same decoded text. References:
// tests/peers/refs-gguf-tokenizer.sh -> $AXL_PEER_FIXTURES/gguf-tokenizer/<name>.json, which also
// compares those ids with llama.cpp's and transformers' own GGUF conversion.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "axl/tokenizer/tokenizer.h"
#include "tests/tokenizer/tok_test_util.h"

namespace {

class GgufConverted : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufConverted, OurLoaderEncodesAsTokenizersDoes) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  std::string ref = peer ? std::string(peer) + "/gguf-tokenizer/" + GetParam() + ".json" : std::string();
  if (ref.empty() || !std::filesystem::exists(ref)) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << ref;
    GTEST_SKIP() << "peer reference gguf-tokenizer/ not generated (set AXL_PEER_FIXTURES)";
  }
  auto j = nlohmann::json::parse(axl::test::read_file(ref));
  auto tok = axl::tokenizer::load_tokenizer(j.at("ours_dir").get<std::string>());
  int checked = 0;
  for (const auto& c : j.at("cases")) {
    std::string text = c.at("text").get<std::string>();
    auto want = c.at("ours").get<std::vector<int32_t>>();
    auto want_special = c.at("ours_special").get<std::vector<int32_t>>();
    EXPECT_EQ(tok->encode(text, false), want) << GetParam() << " " << c.at("name");
    EXPECT_EQ(tok->encode(text, true), want_special) << GetParam() << " " << c.at("name");
    EXPECT_EQ(tok->decode(want, false), c.at("ours_decoded").get<std::string>()) << c.at("name");
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

INSTANTIATE_TEST_SUITE_P(Models, GgufConverted, ::testing::Values("SmolLM2", "Stories"));

}  // namespace
