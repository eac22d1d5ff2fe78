// tokenizer.json read through simdjson (TokenizerJsonFile) must build the same tokenizer as the
// plain nlohmann::json path, and report bad files with the same messages.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/tokenizer/hf_tokenizer.h"
#include "axl/tokenizer/tokenizer.h"
#include "axl/tokenizer/tokenizer_json_file.h"
#include "tests/fixtures.h"
#include "tests/tokenizer/tok_test_util.h"

namespace {

using axl::tokenizer::HfTokenizer;
using axl::tokenizer::TokenizerJsonFile;

const std::string& scratch() {
  static const std::string dir = axl::test::scratch_dir("tok-json-file");
  return dir;
}

std::string write(const std::string& name, const std::string& text) {
  const std::string path = scratch() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string load_error(const std::string& path) {
  try {
    HfTokenizer::from_file(path, {});
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerJsonFile, Llama3SameAsNlohmannPath) {
  AXL_REQUIRE_FIXTURE(path, "tokenizers/llama3/tokenizer.json");
  const TokenizerJsonFile file(path);
  ASSERT_NE(file.bpe(), nullptr);
  EXPECT_EQ(file.bpe()->vocab.size(), 128000u);
  EXPECT_EQ(file.bpe()->merges.size(), 280147u);
  EXPECT_EQ(file.bpe()->merges[0].first, "Ġ");
  EXPECT_EQ(file.bpe()->merges[0].second, "Ġ");
  EXPECT_TRUE(file.json()["model"]["vocab"].empty());  // left to the tables, not duplicated

  const auto fast = HfTokenizer::from_file(path, {});
  const HfTokenizer slow(nlohmann::json::parse(axl::test::read_file(path)), {});
  EXPECT_EQ(fast->vocab_size(), slow.vocab_size());
  for (const char* text : {"Hello world! héllo   wörld\n\n\tcode: x = f(1234567);",
                           "<|begin_of_text|>System<|eot_id|> 日本語のテキスト 🙂🙂", "  leading and trailing  "}) {
    EXPECT_EQ(fast->encode(text, true), slow.encode(text, true)) << text;
  }
  for (int32_t id : {0, 1, 500, 127999, 128000, 128009, 128255}) EXPECT_EQ(fast->id_to_token(id), slow.id_to_token(id));
  EXPECT_EQ(fast->token_to_id("ĠHello"), slow.token_to_id("ĠHello"));
}

TEST(TokenizerJsonFile, EncodeOffsetsIsEncodeWithOffsetsLessTheTokenStrings) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/llama3");
  const auto tok = axl::tokenizer::load_tokenizer(dir);
  const std::string text = "<|begin_of_text|>Héllo wörld,  \n\tcode: f(42) 🙂";
  const auto full = tok->encode_with_offsets(text, true);
  const auto lean = tok->encode_offsets(text, true);
  EXPECT_EQ(lean.ids, full.ids);
  EXPECT_EQ(lean.offsets, full.offsets);
  EXPECT_TRUE(lean.tokens.empty());
  ASSERT_GT(full.offsets.size(), 3u);
  EXPECT_EQ(full.offsets[1].first, 17u);  // code points: the first piece after the 17-character special token
}

TEST(TokenizerJsonFile, PairMergesAndUntypedModel) {
  // Merges as [a, b] pairs, and a model without "type" (HF guesses BPE from "merges").
  const std::string path = write("pairs.json", R"({"added_tokens": [], "normalizer": null, "pre_tokenizer": null,
    "post_processor": null, "decoder": null,
    "model": {"vocab": {"a": 0, "b": 1, "ab": 2, "abb": 3}, "merges": [["a", "b"], ["ab", "b"]]}})");
  const TokenizerJsonFile file(path);
  ASSERT_NE(file.bpe(), nullptr);
  EXPECT_EQ(file.bpe()->merges.size(), 2u);
  EXPECT_EQ(HfTokenizer::from_file(path, {})->encode("abbab", false), (std::vector<int32_t>{3, 2}));
}

TEST(TokenizerJsonFile, BadFilesSameMessages) {
  const std::string bad_id = write("bad_id.json", R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})");
  EXPECT_EQ(TokenizerJsonFile(bad_id).bpe(), nullptr);  // left in json() for the model to name
  EXPECT_NE(load_error(bad_id).find("model BPE: vocab entry 'a' has no integer id"), std::string::npos)
      << load_error(bad_id);
  const std::string bad_merge = write("bad_merge.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}})");
  EXPECT_NE(load_error(bad_merge).find("merge #0 is neither"), std::string::npos) << load_error(bad_merge);
  const std::string missing = write("missing.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})");
  EXPECT_NE(load_error(missing).find("merge 'a b' uses a token missing from the vocab"), std::string::npos)
      << load_error(missing);
  EXPECT_NE(load_error(write("broken.json", "{\"model\": [1, 2")).find("broken.json: invalid JSON"), std::string::npos);
  EXPECT_NE(load_error(scratch() + "/none.json").find("cannot open"), std::string::npos);
}

}  // namespace
