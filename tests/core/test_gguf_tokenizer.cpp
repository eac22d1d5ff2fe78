// GGUF embedded tokenizer -> tokenizer.json / tokenizer_config.json / special_tokens_map.json:
// hand-built GGUFs (structure, sentencepiece merges, errors), then SmolLM2 (gpt2 BPE) and
// stories260K's tok512 (llama vocabulary) against the peer references of
// tests/peers/gguf_tokenizer_reference.py (tokenizers on our files vs transformers' GGUF loader).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/models/gguf_convert.h"
#include "axl/models/gguf_tokenizer_convert.h"
#include "tests/core/gguf_test_util.h"

namespace {

using namespace axl::test::gguf;
using axl::models::GgufFile;
using nlohmann::json;

std::string array_payload(GgufValueType elem, uint64_t n, const std::string& elems) {
  std::string p;
  put_u32(p, static_cast<uint32_t>(elem));
  put_u64(p, n);
  return p + elems;
}
void kv_strs(Builder& b, const std::string& key, const std::vector<std::string>& v) {
  std::string e;
  for (const auto& s : v) put_str(e, s);
  b.kv_raw(key, GgufValueType::ARRAY, array_payload(GgufValueType::STRING, v.size(), e));
}
void kv_i32s(Builder& b, const std::string& key, const std::vector<int32_t>& v) {
  b.kv_raw(key, GgufValueType::ARRAY,
           array_payload(GgufValueType::INT32, v.size(), std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4)));
}
void kv_f32s(Builder& b, const std::string& key, const std::vector<float>& v) {
  b.kv_raw(key, GgufValueType::ARRAY,
           array_payload(GgufValueType::FLOAT32, v.size(), std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4)));
}
void kv_bool(Builder& b, const std::string& key, bool v) { b.kv_raw(key, GgufValueType::BOOL, std::string(1, v ? 1 : 0)); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A byte-level BPE vocabulary: 2 control tokens, one user-defined, letters and two merges.
struct TinyGpt2 {
  std::vector<std::string> tokens = {"<|begin|>", "<|end|>", "<tool>", "a", "b", "Ġ", "ab", "Ġab", "é"};
  std::vector<int32_t> types = {3, 3, 4, 1, 1, 1, 1, 1, 1};
  std::vector<std::string> merges = {"a b", "Ġ ab"};
  std::string pre = "llama-bpe";
  bool with_pre = true;

  std::string build(const std::string& dir) const {
    Builder b;
    b.kv_str("general.architecture", "llama").kv_u32("llama.context_length", 4096);
    b.kv_str("tokenizer.ggml.model", "gpt2");
    if (with_pre) b.kv_str("tokenizer.ggml.pre", pre);
    kv_strs(b, "tokenizer.ggml.tokens", tokens);
    kv_i32s(b, "tokenizer.ggml.token_type", types);
    kv_strs(b, "tokenizer.ggml.merges", merges);
    b.kv_u32("tokenizer.ggml.bos_token_id", 0).kv_u32("tokenizer.ggml.eos_token_id", 1);
    kv_bool(b, "tokenizer.ggml.add_bos_token", true);
    b.kv_str("tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
    return write_file(dir, "tiny.gguf", b.build());
  }
};

TEST(GgufTokenizer, Gpt2VocabularyBecomesByteLevelBpe) {
  std::string dir = axl::test::scratch_dir("gguf_tok_gpt2");
  auto f = GgufFile::open(TinyGpt2().build(dir));
  auto files = axl::models::hf_tokenizer_from_gguf(*f);
  ASSERT_TRUE(files.has_value());
  const auto& tj = files->tokenizer;
  EXPECT_EQ(tj["model"]["type"], "BPE");
  EXPECT_EQ(tj["model"]["byte_fallback"], false);
  EXPECT_TRUE(tj["model"]["unk_token"].is_null());
  EXPECT_EQ(tj["model"]["ignore_merges"], true);  // llama-bpe, as llama.cpp sets it
  ASSERT_EQ(tj["model"]["vocab"].size(), 9u);
  EXPECT_EQ(tj["model"]["vocab"]["Ġab"], 7);
  EXPECT_EQ(tj["model"]["vocab"]["é"], 8);
  EXPECT_EQ(tj["model"]["merges"].dump(), R"([["a","b"],["Ġ","ab"]])");
  // Added tokens: CONTROL special, USER_DEFINED not.
  ASSERT_EQ(tj["added_tokens"].size(), 3u);
  EXPECT_EQ(tj["added_tokens"][0]["content"], "<|begin|>");
  EXPECT_EQ(tj["added_tokens"][0]["special"], true);
  EXPECT_EQ(tj["added_tokens"][2]["content"], "<tool>");
  EXPECT_EQ(tj["added_tokens"][2]["id"], 2);
  EXPECT_EQ(tj["added_tokens"][2]["special"], false);
  // Pre-tokenizer: llama.cpp's llama3 split, then byte-level without its own regex.
  const auto& pre = tj["pre_tokenizer"]["pretokenizers"];
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0]["type"], "Split");
  EXPECT_EQ(pre[0]["behavior"], "Isolated");
  EXPECT_NE(pre[0]["pattern"]["Regex"].get<std::string>().find(R"(\p{N}{1,3})"), std::string::npos);
  EXPECT_EQ(pre[1]["type"], "ByteLevel");
  EXPECT_EQ(pre[1]["use_regex"], false);
  EXPECT_EQ(tj["decoder"]["type"], "ByteLevel");
  // add_bos_token: the post-processor prepends <|begin|>.
  const auto& post = tj["post_processor"]["processors"];
  ASSERT_EQ(post.size(), 2u);
  EXPECT_EQ(post[1]["single"][0]["SpecialToken"]["id"], "<|begin|>");
  EXPECT_EQ(post[1]["special_tokens"]["<|begin|>"]["ids"][0], 0);

  const auto& cfg = files->tokenizer_config;
  EXPECT_EQ(cfg["bos_token"], "<|begin|>");
  EXPECT_EQ(cfg["eos_token"], "<|end|>");
  EXPECT_FALSE(cfg.contains("pad_token"));
  EXPECT_EQ(cfg["add_bos_token"], true);
  EXPECT_EQ(cfg["add_eos_token"], false);
  EXPECT_EQ(cfg["model_max_length"], 4096);
  EXPECT_EQ(cfg["tokenizer_class"], "PreTrainedTokenizerFast");
  EXPECT_EQ(cfg["chat_template"], "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
  EXPECT_EQ(cfg["added_tokens_decoder"]["2"]["content"], "<tool>");
  EXPECT_EQ(files->special_tokens_map["eos_token"]["content"], "<|end|>");
  EXPECT_TRUE(files->notes.empty());

  // Written atomically into a new folder, readable back.
  auto notes = axl::models::write_gguf_tokenizer(*f, dir + "/hf");
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(axl::read_json_file(dir + "/hf/tokenizer.json")["model"]["merges"].size(), 2u);
  EXPECT_EQ(axl::read_json_file(dir + "/hf/tokenizer_config.json")["eos_token"], "<|end|>");
  EXPECT_EQ(axl::read_json_file(dir + "/hf/special_tokens_map.json")["bos_token"]["content"], "<|begin|>");
}

TEST(GgufTokenizer, PreTokenizerNames) {
  std::string dir = axl::test::scratch_dir("gguf_tok_pre");
  auto pre_of = [&](const TinyGpt2& t) {
    auto files = axl::models::hf_tokenizer_from_gguf(*GgufFile::open(t.build(dir)));
    return *files;
  };
  TinyGpt2 t;
  t.pre = "smollm";  // digits one by one, then the GPT-2 split
  auto smollm = pre_of(t);
  const auto& p = smollm.tokenizer["pre_tokenizer"]["pretokenizers"];
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0]["pattern"]["Regex"], R"(\p{N})");
  EXPECT_EQ(smollm.tokenizer["model"]["ignore_merges"], false);
  EXPECT_EQ(smollm.tokenizer_config["clean_up_tokenization_spaces"], false);
  for (const std::string name : {"gpt-2", "qwen2", "default", "llama3", "starcoder", "deepseek-coder"}) {
    t.pre = name;
    EXPECT_NO_THROW(pre_of(t)) << name;
  }
  t.pre = "qwen2";
  EXPECT_EQ(pre_of(t).tokenizer["pre_tokenizer"]["pretokenizers"].size(), 2u);
  t.pre = "default";  // llama.cpp's four-step default
  EXPECT_EQ(pre_of(t).tokenizer["pre_tokenizer"]["pretokenizers"].size(), 5u);

  t.pre = "no-such-pre";
  try {
    pre_of(t);
    FAIL() << "expected axl::Error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.pre 'no-such-pre'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("smollm"), std::string::npos) << e.what();
  }
  // Missing pre: llama.cpp's 'default', with a note.
  t.with_pre = false;
  auto d = pre_of(t);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("'default'"), std::string::npos);
}

// A sentencepiece vocabulary: merges come from the scores (transformers' GGUF rule).
TEST(GgufTokenizer, LlamaVocabularyMergesFromScores) {
  std::string dir = axl::test::scratch_dir("gguf_tok_spm");
  Builder b;
  b.kv_str("general.architecture", "llama").kv_str("tokenizer.ggml.model", "llama");
  kv_strs(b, "tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", "▁", "a", "b", "ab", "▁a", "▁ab"});
  kv_f32s(b, "tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2, -3, -4, -5, -6});
  kv_i32s(b, "tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1, 1, 1, 1, 1});
  b.kv_u32("tokenizer.ggml.bos_token_id", 1).kv_u32("tokenizer.ggml.eos_token_id", 2);
  b.kv_u32("tokenizer.ggml.unknown_token_id", 0);
  auto files = axl::models::hf_tokenizer_from_gguf(*GgufFile::open(write_file(dir, "spm.gguf", b.build())));
  ASSERT_TRUE(files.has_value());
  const auto& tj = files->tokenizer;
  // ab (-4) before ▁a (-5) before ▁ab (-6); within ▁ab, the split with the better left half first.
  EXPECT_EQ(tj["model"]["merges"].dump(), R"([["a","b"],["▁","a"],["▁","ab"],["▁a","b"]])");
  EXPECT_EQ(tj["model"]["byte_fallback"], true);
  EXPECT_EQ(tj["model"]["fuse_unk"], true);
  EXPECT_EQ(tj["model"]["unk_token"], "<unk>");
  EXPECT_EQ(tj["model"]["vocab"]["<0x41>"], 3);
  EXPECT_EQ(tj["normalizer"]["normalizers"][0]["type"], "Prepend");
  EXPECT_EQ(tj["normalizer"]["normalizers"][1]["type"], "Replace");
  EXPECT_TRUE(tj["pre_tokenizer"].is_null());
  EXPECT_EQ(tj["decoder"]["decoders"].size(), 4u);
  EXPECT_EQ(tj["decoder"]["decoders"][3]["type"], "Strip");
  // <unk> (UNKNOWN) and <s>, </s> (CONTROL) are special; byte tokens are not added tokens.
  ASSERT_EQ(tj["added_tokens"].size(), 3u);
  EXPECT_EQ(tj["added_tokens"][0]["content"], "<unk>");
  // add_bos_token absent: llama.cpp's sentencepiece default (true).
  EXPECT_EQ(files->tokenizer_config["add_bos_token"], true);
  EXPECT_EQ(tj["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  EXPECT_EQ(files->tokenizer_config["unk_token"], "<unk>");
  EXPECT_FALSE(files->tokenizer_config.contains("model_max_length"));
}

TEST(GgufTokenizer, MissingOrMalformedMetadataIsAnError) {
  std::string dir = axl::test::scratch_dir("gguf_tok_err");
  auto expect_error = [&](const Builder& b, const std::string& needle) {
    auto f = GgufFile::open(write_file(dir, "bad.gguf", b.build()));
    try {
      axl::models::hf_tokenizer_from_gguf(*f);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto base = [](const std::string& model) {
    Builder b;
    b.kv_str("general.architecture", "llama").kv_str("tokenizer.ggml.model", model);
    return b;
  };
  expect_error(base("gpt2"), "'tokenizer.ggml.tokens' is missing");
  {
    Builder b = base("gpt2");
    b.kv_str("tokenizer.ggml.tokens", "a");
    expect_error(b, "must be an array of strings");
  }
  {
    Builder b = base("bert");
    kv_strs(b, "tokenizer.ggml.tokens", {"a"});
    expect_error(b, "tokenizer.ggml.model 'bert'");
  }
  {
    Builder b = base("gpt2");
    kv_strs(b, "tokenizer.ggml.tokens", {"a", "b"});
    kv_i32s(b, "tokenizer.ggml.token_type", {1});
    expect_error(b, "token_type has 1 entries for 2 tokens");
  }
  {
    Builder b = base("gpt2");
    b.kv_str("tokenizer.ggml.pre", "gpt-2");
    kv_strs(b, "tokenizer.ggml.tokens", {"a", "b"});
    expect_error(b, "tokenizer.ggml.merges is missing");
  }
  {
    Builder b = base("gpt2");
    b.kv_str("tokenizer.ggml.pre", "gpt-2");
    kv_strs(b, "tokenizer.ggml.tokens", {"a", "b"});
    kv_strs(b, "tokenizer.ggml.merges", {"a b"});  // "ab" is not a token
    expect_error(b, "merge 0 of tokenizer.ggml.merges ('a b')");
  }
  {
    Builder b = base("gpt2");
    b.kv_str("tokenizer.ggml.pre", "gpt-2");
    kv_strs(b, "tokenizer.ggml.tokens", {"a", "b", "ab"});
    kv_strs(b, "tokenizer.ggml.merges", {"ab"});
    expect_error(b, "is not two tokens separated by a space");
  }
  {
    Builder b = base("gpt2");
    kv_strs(b, "tokenizer.ggml.tokens", {"a", "\xff"});
    expect_error(b, "token 1 of tokenizer.ggml.tokens is not valid UTF-8");
  }
  {
    Builder b = base("llama");
    kv_strs(b, "tokenizer.ggml.tokens", {"a"});
    b.kv_u32("tokenizer.ggml.bos_token_id", 5);
    expect_error(b, "'tokenizer.ggml.bos_token_id' is 5, outside the 1-token vocabulary");
  }
  {
    Builder b = base("llama");
    kv_strs(b, "tokenizer.ggml.tokens", {"a"});
    expect_error(b, "tokenizer.ggml.scores is missing");
  }
  {
    Builder b = base("llama");
    kv_strs(b, "tokenizer.ggml.tokens", {"a"});
    kv_f32s(b, "tokenizer.ggml.scores", {0});
    expect_error(b, "add_bos_token is set but there is no bos_token_id");
  }
}

TEST(GgufTokenizer, NoTokenizerWritesNothing) {
  std::string dir = axl::test::scratch_dir("gguf_tok_none");
  Builder b;
  b.kv_str("general.architecture", "llama").kv_u32("tokenizer.ggml.bos_token_id", 1);
  const std::string path = write_file(dir, "none.gguf", b.build());
  auto f = GgufFile::open(path);
  EXPECT_FALSE(axl::models::hf_tokenizer_from_gguf(*f).has_value());
  auto notes = axl::models::write_gguf_tokenizer(*f, dir + "/hf");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("has no tokenizer"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir + "/hf/tokenizer.json"));
  EXPECT_THROW(axl::models::convert_gguf_tokenizer(path, dir + "/hf"), axl::Error);
}

// --- against the peer references ---------------------------------------------------------------

std::vector<int64_t> ids(const json& j) { return j.get<std::vector<int64_t>>(); }

// Checks shared by both GGUFs. `known_diff`: cases where transformers' GGUF loader is known to
// tokenize differently from ours (and from llama.cpp, which `make test-peers` checks).
void check_against_peer(const std::string& ref_path, const std::set<std::string>& known_diff,
                        const std::set<std::string>& no_round_trip) {
  const json ref = axl::read_json_file(ref_path);
  const std::string gguf = ref["gguf"], peer_dir = ref["ours_dir"];
  // The files the peer encoded are the files we write today.
  std::string dir = axl::test::scratch_dir("gguf_tok_peer");
  axl::models::convert_gguf_tokenizer(gguf, dir);
  for (const std::string name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_EQ(read_text(dir + "/" + name), read_text(peer_dir + "/" + name)) << name << " differs from the one the peer references were made with";

  const json tj = axl::read_json_file(dir + "/tokenizer.json");
  const json cfg = axl::read_json_file(dir + "/tokenizer_config.json");
  auto f = GgufFile::open(gguf);
  // Vocabulary: the GGUF strings byte for byte, each with its own id.
  const auto& tokens = f->find("tokenizer.ggml.tokens")->strs;
  const json& vocab = tj["model"]["vocab"];
  ASSERT_EQ(vocab.size(), tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto it = vocab.find(tokens[i]);
    ASSERT_TRUE(it != vocab.end()) << "token " << i;
    ASSERT_EQ(it->get<std::size_t>(), i) << "token " << i;
  }
  const auto bos = f->get_int("tokenizer.ggml.bos_token_id"), eos = f->get_int("tokenizer.ggml.eos_token_id");
  EXPECT_EQ(cfg["bos_token"], tokens[bos]);
  EXPECT_EQ(cfg["eos_token"], tokens[eos]);
  EXPECT_EQ(cfg["chat_template"], f->get_string("tokenizer.chat_template"));
  EXPECT_EQ(ref["ours_transformers_class"], "TokenizersBackend");

  const bool add_bos = cfg["add_bos_token"];
  std::size_t same = 0;
  for (const auto& c : ref["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    // transformers reading our folder agrees with tokenizers reading our tokenizer.json.
    EXPECT_EQ(ids(c["ours"]), ids(c["ours_transformers"]));
    EXPECT_EQ(ids(c["ours_special"]), ids(c["ours_transformers_special"]));
    // With special tokens: BOS first exactly when add_bos_token says so.
    std::vector<int64_t> want = ids(c["ours"]);
    if (add_bos) want.insert(want.begin(), bos);
    EXPECT_EQ(ids(c["ours_special"]), want);
    // transformers' own GGUF conversion.
    if (ids(c["ours"]) == ids(c["transformers"])) ++same;
    else EXPECT_TRUE(known_diff.count(name)) << "ours and transformers' GGUF loader disagree";
    EXPECT_EQ(c["ours_decoded"], c["transformers_decoded"]);
    if (!no_round_trip.count(name)) {
      EXPECT_EQ(c["ours_decoded"], c["text"]);
    }
  }
  EXPECT_GE(same, ref["cases"].size() - known_diff.size());
  EXPECT_GE(ref["cases"].size(), 12u);
  EXPECT_EQ(ref["chat_template_render"]["ours"], ref["chat_template_render"]["transformers"]);
}

TEST(GgufTokenizerPeer, SmolLM2MatchesTransformers) {
  AXL_REQUIRE_PEER(ref_path, "gguf-tokenizer/SmolLM2.json");
  // "½" is \p{N}: llama.cpp's smollm pre-tokenizer (and the original SmolLM2 tokenizer.json)
  // split it off first; transformers' GGUF loader ignores tokenizer.ggml.pre.
  check_against_peer(ref_path, {"golden4"}, {});
  const json ref = axl::read_json_file(ref_path);
  std::string dir = axl::test::scratch_dir("gguf_tok_smollm2");
  axl::models::convert_gguf_tokenizer(ref["gguf"], dir);
  const json tj = axl::read_json_file(dir + "/tokenizer.json");
  const json cfg = axl::read_json_file(dir + "/tokenizer_config.json");
  EXPECT_EQ(tj["model"]["vocab"].size(), 49152u);
  EXPECT_EQ(tj["model"]["merges"].size(), 48900u);
  EXPECT_EQ(tj["model"]["merges"][0].dump(), R"(["Ġ","t"])");
  EXPECT_EQ(tj["added_tokens"].size(), 17u);
  EXPECT_EQ(cfg["bos_token"], "<|im_start|>");
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  EXPECT_EQ(cfg["pad_token"], "<|im_end|>");
  EXPECT_EQ(cfg["unk_token"], "<|endoftext|>");
  EXPECT_EQ(cfg["add_bos_token"], false);
  EXPECT_EQ(cfg["model_max_length"], 8192);
  EXPECT_EQ(tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], R"(\p{N})");
}

TEST(GgufTokenizerPeer, StoriesLlamaVocabMatchesTransformers) {
  AXL_REQUIRE_PEER(ref_path, "gguf-tokenizer/Stories.json");
  // The chat text starts with <s>, after which the normalizer's "▁" decodes to a space.
  check_against_peer(ref_path, {}, {"chat"});
  const json ref = axl::read_json_file(ref_path);
  std::string dir = axl::test::scratch_dir("gguf_tok_stories");
  axl::models::convert_gguf_tokenizer(ref["gguf"], dir);
  const json tj = axl::read_json_file(dir + "/tokenizer.json");
  EXPECT_EQ(tj["model"]["vocab"].size(), 512u);
  EXPECT_EQ(tj["model"]["vocab"]["<0x0A>"], 13);
  EXPECT_EQ(tj["model"]["byte_fallback"], true);
  EXPECT_GT(tj["model"]["merges"].size(), 100u);
  EXPECT_EQ(axl::read_json_file(dir + "/tokenizer_config.json")["add_bos_token"], true);
}

}  // namespace
