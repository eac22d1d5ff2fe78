// Conformance with HF tokenizers 0.22.2 on the four fixture tokenizers:
// golden/hf_tokenizers_reference_encodings.json (made with the Rust crate through Node).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/tokenizer/tok_test_util.h"

namespace {

using axl::test::fixture_tokenizer;

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, SamplesMatchIdsTokensOffsetsAndDecode) {
  AXL_REQUIRE_FIXTURE(golden_path, "golden/hf_tokenizers_reference_encodings.json");
  auto golden = nlohmann::json::parse(axl::test::read_file(golden_path));
  const auto& ref = golden["tokenizers"][GetParam()];
  const auto& tok = fixture_tokenizer(GetParam());
  int checked = 0;
  for (const auto& s : ref["samples"]) {
    std::string text = s["text"];
    SCOPED_TRACE("text: " + text);
    auto enc = tok.encode_with_offsets(text, false);
    EXPECT_EQ(enc.ids, s["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(enc.tokens, s["tokens"].get<std::vector<std::string>>());
    std::vector<std::pair<uint32_t, uint32_t>> offsets;
    for (const auto& o : s["offsets"]) offsets.push_back({o[0].get<uint32_t>(), o[1].get<uint32_t>()});
    EXPECT_EQ(enc.offsets, offsets);
    EXPECT_EQ(tok.encode(text, false), s["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(tok.encode(text, true), s["ids_with_special"].get<std::vector<int32_t>>());
    EXPECT_EQ(tok.decode(enc.ids), s["decoded"].get<std::string>());
    EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
    ++checked;
  }
  EXPECT_EQ(checked, 10);
}

TEST_P(Golden, TinyShakespeare) {
  AXL_REQUIRE_FIXTURE(golden_path, "golden/hf_tokenizers_reference_encodings.json");
  AXL_REQUIRE_FIXTURE(text_path, "text/tinyshakespeare.txt");
  auto golden = nlohmann::json::parse(axl::test::read_file(golden_path));
  const auto& ref = golden["tokenizers"][GetParam()];
  const auto& tok = fixture_tokenizer(GetParam());
  std::string text = axl::test::read_file(text_path);
  // The golden "first 2000 chars" are code points; the file is ASCII.
  EXPECT_EQ(tok.encode(text.substr(0, 2000), false),
            ref["tinyshakespeare_first2000chars_ids"].get<std::vector<int32_t>>());
  auto ids = tok.encode(text, false);
  EXPECT_EQ(ids.size(), ref["tinyshakespeare_full"]["n_tokens"].get<size_t>());
  EXPECT_EQ(axl::test::sha256_hex(axl::test::ids_as_uint32le(ids)),
            ref["tinyshakespeare_full"]["sha256_of_uint32le_ids"].get<std::string>());
  EXPECT_EQ(tok.decode(ids), text);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden,
                         ::testing::Values("llama3", "qwen3", "gemma3", "lenml-llama2-mistral32k"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Sha256, KnownVector) {
  EXPECT_EQ(axl::test::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace

namespace {

TEST(FixtureConfig, SpecialTokensFromTokenizerConfig) {
  AXL_REQUIRE_FIXTURE(dir, "tokenizers/llama3");
  const auto& llama3 = fixture_tokenizer("llama3");
  EXPECT_EQ(llama3.special_tokens().bos, "<|begin_of_text|>");
  EXPECT_EQ(llama3.special_tokens().bos_id, 128000);
  EXPECT_EQ(llama3.special_tokens().eos_id, 128001);
  EXPECT_TRUE(llama3.config().chat_template.has_value());
  EXPECT_EQ(llama3.vocab_size(), 128256u);
  EXPECT_TRUE(llama3.is_special(128000));
  EXPECT_FALSE(llama3.is_special(9906));
  const auto& qwen3 = fixture_tokenizer("qwen3");
  EXPECT_FALSE(qwen3.special_tokens().bos_id.has_value());
  EXPECT_EQ(qwen3.special_tokens().eos_id, 151645);
  EXPECT_EQ(qwen3.special_tokens().pad_id, 151643);
  EXPECT_EQ(qwen3.token_to_id("<think>"), 151667);
  EXPECT_EQ(qwen3.id_to_token(151667), "<think>");
  // Added tokens are cut out of the text first; decode can skip the special ones.
  auto ids = qwen3.encode("<|im_start|>user\nhi<|im_end|>", false);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  EXPECT_EQ(qwen3.decode(ids, true), "user\nhi");
  const auto& gemma3 = fixture_tokenizer("gemma3");
  EXPECT_EQ(gemma3.special_tokens().bos_id, 2);
  EXPECT_EQ(gemma3.special_tokens().eos_id, 106);  // <end_of_turn>
  EXPECT_EQ(gemma3.vocab_size(), 262145u);
}

}  // namespace
