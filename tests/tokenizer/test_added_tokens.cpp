// Tokens added after loading (Axolotl's special_tokens / tokens) against the live
// transformers + tokenizers (tests/peers/refs-resize.sh): same ids for texts that use them,
// same len(tokenizer); our saved files reload with the same ids; HF's saved files load here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/tokenizer/tokenizer.h"
#include "tests/tokenizer/tok_test_util.h"

namespace {

using axl::tokenizer::AddedToken;
using axl::tokenizer::Tokenizer;

AddedToken raw(const std::string& s, bool special) {
  AddedToken t;
  t.content = s;
  t.special = special;
  return t;
}

// Axolotl's order: special_tokens roles, `tokens`, then additional_special_tokens.
void apply(Tokenizer& tok, const nlohmann::json& add) {
  const std::string pad = add["pad_token"].get<std::string>();
  tok.add_tokens({raw(pad, true)});
  tok.set_special_token("pad", pad);
  std::vector<AddedToken> plain, extra;
  for (const auto& t : add["tokens"]) plain.push_back(raw(t.get<std::string>(), false));
  for (const auto& t : add["additional_special_tokens"]) extra.push_back(raw(t.get<std::string>(), true));
  tok.add_tokens(plain);
  tok.add_tokens(extra);
}

std::string peer_dir() {
  const char* p = std::getenv("AXL_PEER_FIXTURES");
  return p ? std::string(p) + "/resize" : std::string();
}

#define AXL_REQUIRE_RESIZE_REF(dir_var)                                                              \
  const std::string dir_var = peer_dir();                                                            \
  if (dir_var.empty() || !std::filesystem::exists(dir_var + "/tokenizers.json")) {                   \
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference resize/tokenizers.json";   \
    GTEST_SKIP() << "peer reference resize not generated (set AXL_PEER_FIXTURES)";                   \
  }

std::string source_dir(const std::string& name, const std::string& peer) {
  return name == "stories" ? peer + "/base" : axl::test::tokenizer_dir(name);
}

void expect_same(const Tokenizer& tok, const nlohmann::json& ref, const nlohmann::json& texts, const std::string& what) {
  EXPECT_EQ(tok.vocab_size(), ref["len"].get<size_t>()) << what;
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(tok.encode(texts[i].get<std::string>()), ref["ids"][i].get<std::vector<int32_t>>())
        << what << ": " << texts[i];
}

class AddedTokensPeer : public ::testing::TestWithParam<std::string> {};

TEST_P(AddedTokensPeer, MatchesLiveTokenizersAndRoundTrips) {
  AXL_REQUIRE_RESIZE_REF(peer);
  const auto refs = nlohmann::json::parse(axl::test::read_file(peer + "/tokenizers.json"));
  const std::string name = GetParam();
  const auto& ref = refs[name];
  auto tok = axl::tokenizer::load_tokenizer(source_dir(name, peer));
  const size_t before = tok->vocab_size();
  apply(*tok, refs["additions"]);
  for (const auto& [content, id] : ref["added"].items()) EXPECT_EQ(tok->token_to_id(content), id.get<int32_t>()) << content;
  EXPECT_EQ(tok->special_tokens().pad_id, ref["pad_token_id"].get<int32_t>());
  EXPECT_GT(tok->vocab_size(), before);
  expect_same(*tok, ref, refs["texts"], name + " after add_tokens");
  EXPECT_TRUE(tok->is_special(*tok->token_to_id("<|im_sep|>")));
  EXPECT_FALSE(tok->is_special(*tok->token_to_id("<|persona|>")));
  EXPECT_EQ(tok->decode(tok->encode("a<|persona|>b", false)).find("<|persona|>") != std::string::npos, true);

  // Our saved files load back here with the same ids (transformers reading them is checked
  // end to end in tests/train/test_new_tokens.cpp).
  const std::string saved = axl::test::scratch_dir("added-tokens-" + name);
  axl::tokenizer::save_tokenizer(*tok, saved);
  auto again = axl::tokenizer::load_tokenizer(saved);
  expect_same(*again, ref, refs["texts"], name + " reloaded");
  EXPECT_EQ(again->special_tokens().pad_id, ref["pad_token_id"].get<int32_t>());

  // transformers' own save_pretrained output (tokenizer.json, also for the sentencepiece model).
  auto hf = axl::tokenizer::load_tokenizer(peer + "/hf-saved-" + name);
  expect_same(*hf, ref, refs["texts"], name + " saved by transformers");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AddedTokensPeer, ::testing::Values("llama3", "qwen3", "stories"));

TEST(AddedTokens, ExistingTokenKeepsItsIdAndNewOnesCount) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/llama3/tokenizer.json");
  auto tok = axl::tokenizer::load_tokenizer(axl::test::tokenizer_dir("llama3"));
  const size_t n = tok->vocab_size();
  const auto eot = tok->token_to_id("<|eot_id|>");
  ASSERT_TRUE(eot);
  EXPECT_EQ(tok->add_tokens({raw("<|eot_id|>", true), raw("<|new_a|>", false), raw("<|new_b|>", false)}), 2u);
  EXPECT_EQ(tok->token_to_id("<|eot_id|>"), eot);
  EXPECT_EQ(tok->token_to_id("<|new_a|>"), static_cast<int32_t>(n));
  EXPECT_EQ(tok->token_to_id("<|new_b|>"), static_cast<int32_t>(n + 1));
  EXPECT_EQ(tok->vocab_size(), n + 2);
  EXPECT_EQ(tok->add_tokens({raw("<|new_a|>", false)}), 0u);  // already there
  EXPECT_EQ(tok->vocab_size(), n + 2);
  EXPECT_EQ(tok->encode("x<|new_b|><|new_a|>", false).size(), 3u);
  EXPECT_THROW(tok->set_special_token("pad", "<|not_added|>"), axl::Error);
  EXPECT_THROW(tok->set_special_token("sep", "<|new_a|>"), axl::Error);
}

}  // namespace
