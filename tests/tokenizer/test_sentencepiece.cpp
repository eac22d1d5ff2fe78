// The sentencepiece path on llama2.c's tok512.model (Llama-2 style BPE, byte fallback),
// against the python `sentencepiece` package (ids pasted from it) with transformers'
// LlamaTokenizer (legacy) BOS/EOS rules on top.
#include <gtest/gtest.h>

#include <fstream>

#include "axl/core/error.h"
#include "axl/tokenizer/tokenizer.h"
#include "tests/fixtures.h"

namespace {

using axl::tokenizer::load_tokenizer;
using Ids = std::vector<int32_t>;

TEST(SentencePiece, MatchesPythonSentencepiece) {
  AXL_REQUIRE_FIXTURE(model, "llama2c-stories260K/tok512.model");
  auto tok = load_tokenizer(model);
  // sentencepiece 0.2.1: sp.encode(text)
  EXPECT_EQ(tok->encode("Once upon a time, there was a little girl named Lily.", false),
            (Ids{403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426}));
  EXPECT_EQ(tok->encode("Hello  world\n\tCaf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80", false),
            (Ids{346, 306, 414, 263, 304, 341, 13, 12, 457, 412, 431, 485, 410, 231, 192, 163, 232, 168, 192, 410, 243,
                 162, 155, 131}));
  EXPECT_EQ(tok->encode("", false), Ids{});
  // LlamaTokenizer: BOS by default, special tokens cut out before sentencepiece sees the text.
  EXPECT_EQ(tok->encode("Once upon a time", true), (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok->encode("", true), Ids{1});
  EXPECT_EQ(tok->encode("a<s>b</s>", false), (Ids{261, 1, 268, 2}));
  auto enc = tok->encode_with_offsets("Hello  world", true);
  EXPECT_EQ(enc.ids, (Ids{1, 346, 306, 414, 263, 304, 341}));
  EXPECT_EQ(enc.offsets, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {0, 2}, {2, 4}, {4, 5}, {5, 8}, {8, 10}, {10, 12}}));
  EXPECT_EQ(enc.tokens[0], "<s>");
  EXPECT_EQ(tok->special_tokens().bos_id, 1);
  EXPECT_EQ(tok->special_tokens().eos_id, 2);
  EXPECT_EQ(tok->special_tokens().unk_id, 0);
  EXPECT_EQ(tok->vocab_size(), 512u);
  EXPECT_EQ(tok->id_to_token(403), "\xE2\x96\x81Once");
  EXPECT_EQ(tok->token_to_id("\xE2\x96\x81Once"), 403);
  EXPECT_FALSE(tok->token_to_id("no such piece").has_value());
  EXPECT_THROW(tok->id_to_token(512), axl::Error);
  std::string text = "Once upon a time, Caf\xC3\xA9 \xF0\x9F\x98\x80";
  EXPECT_EQ(tok->decode(tok->encode(text, true), true), text);
  EXPECT_EQ(tok->decode(tok->encode(text, true), false), "<s>" + text);
}

TEST(SentencePiece, ConfigControlsBosAndEos) {
  AXL_REQUIRE_FIXTURE(model, "llama2c-stories260K/tok512.model");
  std::string dir = axl::test::scratch_dir("sp-config");
  std::filesystem::copy_file(model, dir + "/tokenizer.model");
  std::ofstream(dir + "/tokenizer_config.json")
      << R"({"add_bos_token": false, "add_eos_token": true, "model_max_length": 512,
            "chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "T"}]})";
  auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->encode("Once upon a time", true), (Ids{403, 407, 261, 378, 2}));
  EXPECT_EQ(tok->config().model_max_length, 512);
  EXPECT_EQ(tok->config().chat_template, "{{ x }}");
  EXPECT_EQ(tok->config().chat_templates.at("tool_use"), "T");
  // chat_template.jinja beside the config wins, as in newer transformers.
  std::ofstream(dir + "/chat_template.jinja") << "J";
  EXPECT_EQ(load_tokenizer(dir)->config().chat_template, "J");
}

}  // namespace
