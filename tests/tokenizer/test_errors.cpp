// Bad tokenizer files and inputs are axl::Error naming the component, never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/tokenizer/hf_tokenizer.h"
#include "tests/fixtures.h"

namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({"added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null,
    "decoder": null, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})");
}

std::string error_of(const json& j) {
  try {
    axl::tokenizer::HfTokenizer t(j, {});
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrors, MinimalLoads) {
  axl::tokenizer::HfTokenizer t(minimal(), {});
  EXPECT_EQ(t.encode("aab", false), (std::vector<int32_t>{0, 2}));
}

TEST(TokenizerErrors, UnknownComponentsAreNamed) {
  auto j = minimal();
  j["pre_tokenizer"] = {{"type", "Foo"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer type 'Foo' is not supported");
  j = minimal();
  j["normalizer"] = {{"type", "Precompiled"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: normalizer type 'Precompiled' is not supported");
  j = minimal();
  j["decoder"] = {{"type", "CTCx"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: decoder type 'CTCx' is not supported");
  j = minimal();
  j["post_processor"] = {{"type", "Nope"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: post_processor type 'Nope' is not supported");
  j = minimal();
  j["model"]["type"] = "WordLevelX";
  EXPECT_EQ(error_of(j), "tokenizer.json: model type 'WordLevelX' is not supported");
}

TEST(TokenizerErrors, MalformedComponentsAreNamed) {
  auto j = minimal();
  j["model"]["merges"] = json::array({"a c"});
  EXPECT_NE(error_of(j).find("merge 'a c' uses a token missing from the vocab"), std::string::npos);
  j = minimal();
  j["model"]["merges"] = json::array({"ab"});
  EXPECT_NE(error_of(j).find("model BPE: merge 'ab' is not \"a b\""), std::string::npos);
  j = minimal();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  EXPECT_NE(error_of(j).find("pre_tokenizer Split: invalid regex '(unclosed'"), std::string::npos);
  j = minimal();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer Split: behavior 'Sideways' is not supported");
  j = minimal();
  j["normalizer"] = {{"type", "Replace"}, {"pattern", 3}, {"content", "x"}};
  EXPECT_NE(error_of(j).find("normalizer Replace: \"pattern\" must be"), std::string::npos);
  j = minimal();
  j["pre_tokenizer"] = json::array();
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer must be an object, got array");
  j = minimal();
  j["added_tokens"] = json::array({{{"content", "x"}}});
  EXPECT_NE(error_of(j).find("added_tokens entry 'x': \"id\" must be an integer"), std::string::npos);
  j = minimal();
  j.erase("model");
  EXPECT_EQ(error_of(j), "tokenizer.json: \"model\" is missing");
}

TEST(TokenizerErrors, BadFilesAndInput) {
  std::string dir = axl::test::scratch_dir("tok-errors");
  EXPECT_THROW(axl::tokenizer::load_tokenizer(dir + "/missing"), axl::Error);
  EXPECT_THROW(axl::tokenizer::load_tokenizer(dir), axl::Error);  // no tokenizer file inside
  std::ofstream(dir + "/tokenizer.json") << "{ not json";
  try {
    axl::tokenizer::load_tokenizer(dir);
    ADD_FAILURE() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json: invalid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/bad.model") << "not a model";
  EXPECT_THROW(axl::tokenizer::load_tokenizer(dir + "/bad.model"), axl::Error);
  axl::tokenizer::HfTokenizer t(minimal(), {});
  EXPECT_THROW(t.encode(std::string("a\xFF", 2)), axl::Error);
  EXPECT_THROW(t.id_to_token(3), axl::Error);
  EXPECT_THROW(t.id_to_token(-1), axl::Error);
}

}  // namespace
