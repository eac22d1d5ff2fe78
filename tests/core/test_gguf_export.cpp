// `axolotl export gguf` (models/hf_to_gguf.h, gguf_vocab.h, lora_to_gguf.h): stories260K exported
// and read back by our reader (metadata, tokenizer, every tensor's bytes), converted back to HF
// bit-identically, the bytes gguf-py's conventions give, gguf-py's reader on our file, the
// tokenizer.json -> GGUF vocabulary round trip, the LoRA adapter GGUF, and the CLI's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "axl/core/error.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_convert.h"
#include "axl/models/gguf_dequant.h"
#include "axl/models/gguf_file.h"
#include "axl/models/gguf_llama_layout.h"
#include "axl/models/gguf_quantize.h"
#include "axl/models/gguf_tokenizer_convert.h"
#include "axl/models/gguf_vocab.h"
#include "axl/models/hf_to_gguf.h"
#include "axl/models/llama2c_convert.h"
#include "axl/models/lora_to_gguf.h"
#include "axl/models/model_config.h"
#include "axl/tokenizer/sentencepiece_vocab.h"
#include "axl/tokenizer/tokenizer.h"
#include "tests/core/gguf_test_util.h"
#include "tests/fixtures.h"

namespace {

namespace fs = std::filesystem;
namespace m = axl::models;
using axl::models::GgmlType;
using axl::models::GgufFile;

const char* const kOuttypes[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};

// stories260K converted by `convert llama2c`, once per test binary run.
std::string stories_hf(const std::string& fixtures) {
  static std::string dir;
  if (dir.empty()) {
    dir = axl::test::scratch_dir("gguf-export-stories-hf");
    m::Llama2cConvertOptions o;
    o.checkpoint = fixtures + "/stories260K.bin";
    o.tokenizer = fixtures + "/tok512.model";
    o.out_dir = dir;
    m::convert_llama2c(o);
  }
  return dir;
}

// The bytes our export should hold for an HF tensor: permuted for q/k, encoded as `type`.
std::vector<unsigned char> expected_bytes(const axl::TensorView& v, const std::string& hf, const m::ModelConfig& c,
                                          GgmlType type) {
  std::vector<float> x = m::tensor_as_f32(v, hf);
  if (int64_t h = m::gguf_llama_permute_heads(hf, c)) x = m::permute_qk_rows(x, h, v.info->shape[0], v.info->shape[1]);
  return m::quantize(type, x.data(), static_cast<int64_t>(x.size()));
}

TEST(GgufExport, StoriesMetadataTokenizerAndTensorsReadBack) {
  AXL_REQUIRE_FIXTURE(fix, "llama2c-stories260K");
  const std::string hf = stories_hf(fix);
  const m::ModelConfig c = m::load_model_config(hf);
  auto ckpt = axl::Checkpoint::open(hf);
  const auto pieces = axl::tokenizer::read_sentencepiece_pieces(fix + "/tok512.model");
  for (const char* outtype : kOuttypes) {
    SCOPED_TRACE(outtype);
    const std::string path = axl::test::scratch_dir(std::string("gguf-export-") + outtype) + "/m.gguf";
    const GgmlType out = m::parse_gguf_outtype(outtype);
    const auto notes = m::export_hf_to_gguf(hf, path, out);
    const bool quant = out == GgmlType::Q8_0 || out == GgmlType::Q4_0;
    EXPECT_EQ(notes.size(), quant ? 1u : 0u);  // ffn_down's rows of 172 values fall back to F16
    auto f = GgufFile::open(path);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->get_string("general.type"), "model");
    EXPECT_EQ(f->get_int("general.file_type"), static_cast<int64_t>(m::gguf_file_type(out)));
    EXPECT_EQ(f->get_int("general.quantization_version"), 2);
    EXPECT_EQ(f->get_int("llama.block_count"), 5);
    EXPECT_EQ(f->get_int("llama.embedding_length"), 64);
    EXPECT_EQ(f->get_int("llama.feed_forward_length"), 172);
    EXPECT_EQ(f->get_int("llama.attention.head_count"), 8);
    EXPECT_EQ(f->get_int("llama.attention.head_count_kv"), 4);
    EXPECT_EQ(f->get_int("llama.rope.dimension_count"), 8);
    EXPECT_EQ(f->get_int("llama.context_length"), 512);
    EXPECT_EQ(f->get_int("llama.vocab_size"), 512);
    EXPECT_EQ(static_cast<float>(f->get_double("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
    EXPECT_EQ(f->get_double("llama.rope.freq_base"), 10000.0);
    // The sentencepiece vocabulary, piece for piece.
    EXPECT_EQ(f->get_string("tokenizer.ggml.model"), "llama");
    const auto& tokens = f->find("tokenizer.ggml.tokens")->strs;
    const auto& scores = f->find("tokenizer.ggml.scores")->f64s;
    const auto& types = f->find("tokenizer.ggml.token_type")->i64s;
    ASSERT_EQ(tokens.size(), 512u);
    ASSERT_EQ(pieces.size(), 512u);
    for (std::size_t i = 0; i < 512; ++i) {
      ASSERT_EQ(tokens[i], pieces[i].piece) << i;
      ASSERT_EQ(static_cast<float>(scores[i]), pieces[i].score) << i;
    }
    EXPECT_EQ(types[0], 2);    // <unk>
    EXPECT_EQ(types[1], 3);    // <s>
    EXPECT_EQ(types[3], 6);    // <0x00>
    EXPECT_EQ(types[300], 1);  // a merged piece
    EXPECT_EQ(f->get_int("tokenizer.ggml.bos_token_id"), 1);
    EXPECT_EQ(f->get_int("tokenizer.ggml.eos_token_id"), 2);
    EXPECT_EQ(f->find("tokenizer.ggml.add_bos_token")->u64, 1u);
    // Every tensor: llama.cpp name, type, and the exact bytes (tied head: no output.weight).
    ASSERT_EQ(f->tensors().size(), 2u + 9u * 5u);
    EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
    for (const std::string& name : ckpt.names()) {
      if (name == "lm_head.weight") continue;
      const auto gname = m::gguf_llama_tensor_name(name);
      ASSERT_TRUE(gname) << name;
      const m::GgufTensorInfo& t = f->tensor(*gname);
      const auto view = ckpt.get(name);
      EXPECT_EQ(t.shape(), view.info->shape) << name;
      GgmlType want = view.info->shape.size() == 1 ? GgmlType::F32 : out;
      if (quant && view.info->shape.back() % 32) want = GgmlType::F16;
      EXPECT_EQ(t.type, want) << name;
      const auto bytes = expected_bytes(view, name, c, want);
      ASSERT_EQ(t.nbytes, bytes.size()) << name;
      EXPECT_EQ(std::memcmp(f->tensor_data(t), bytes.data(), bytes.size()), 0) << name;
    }
  }
}

TEST(GgufExport, F32ConvertsBackToBitIdenticalWeights) {
  AXL_REQUIRE_FIXTURE(fix, "llama2c-stories260K");
  const std::string hf = stories_hf(fix);
  const std::string dir = axl::test::scratch_dir("gguf-export-back");
  m::export_hf_to_gguf(hf, dir + "/m.gguf", GgmlType::F32);
  m::convert_gguf(dir + "/m.gguf", dir + "/hf");
  auto a = axl::Checkpoint::open(hf);
  auto b = axl::Checkpoint::open(dir + "/hf");
  EXPECT_EQ(a.names(), b.names());
  for (const auto& name : a.names()) {
    const auto va = a.get(name), vb = b.get(name);
    ASSERT_EQ(va.info->shape, vb.info->shape) << name;
    ASSERT_EQ(va.nbytes, vb.nbytes) << name;
    EXPECT_EQ(std::memcmp(va.data, vb.data, va.nbytes), 0) << name;
  }
  const auto ca = m::load_model_config(hf), cb = m::load_model_config(dir + "/hf");
  EXPECT_EQ(ca.num_kv_heads, cb.num_kv_heads);
  EXPECT_EQ(ca.norm_eps, cb.norm_eps);
  EXPECT_EQ(ca.tie_word_embeddings, cb.tie_word_embeddings);
}

TEST(GgufExport, StoriesTensorBytesEqualGgufPyConventions) {
  AXL_REQUIRE_FIXTURE(fix, "llama2c-stories260K");
  AXL_REQUIRE_PEER(peer, "gguf-export");
  const std::string hf = stories_hf(fix);
  for (const char* outtype : kOuttypes) {
    SCOPED_TRACE(outtype);
    const std::string path = axl::test::scratch_dir(std::string("gguf-export-py-") + outtype) + "/m.gguf";
    m::export_hf_to_gguf(hf, path, m::parse_gguf_outtype(outtype));
    auto f = GgufFile::open(path);
    auto want = axl::SafetensorsFile::open(peer + "/stories-" + outtype + ".safetensors");
    ASSERT_EQ(want->tensors().size(), f->tensors().size());
    for (const auto& t : f->tensors()) {
      const auto w = want->get(t.name);
      ASSERT_EQ(w.nbytes, t.nbytes) << t.name;
      EXPECT_EQ(std::memcmp(w.data, f->tensor_data(t), t.nbytes), 0) << t.name;
    }
  }
}

TEST(GgufExport, GgufPyReadsOurFileAsOurReaderDoes) {
  AXL_REQUIRE_PEER(peer, "gguf-export");
  for (const char* outtype : kOuttypes) {
    SCOPED_TRACE(outtype);
    auto f = GgufFile::open(peer + "/stories-" + outtype + ".gguf");
    std::ifstream in(peer + "/reader-" + outtype + ".json");
    const nlohmann::json py = nlohmann::json::parse(in);
    EXPECT_EQ(py["alignment"].get<uint32_t>(), f->alignment());
    ASSERT_EQ(py["fields"].size(), f->metadata().size());
    for (const auto& [key, v] : f->metadata()) {
      ASSERT_TRUE(py["fields"].contains(key)) << key;
      const auto& p = py["fields"][key];
      EXPECT_EQ(p["types"][0].get<uint32_t>(), static_cast<uint32_t>(v.type)) << key;
      const auto& val = p["value"];
      if (v.is_array()) {
        EXPECT_EQ(p["types"][1].get<uint32_t>(), static_cast<uint32_t>(v.elem_type)) << key;
        ASSERT_EQ(val.size(), v.array_size()) << key;
        for (std::size_t i = 0; i < v.array_size(); ++i) {
          if (!v.strs.empty()) {
            ASSERT_EQ(val[i].get<std::string>(), v.strs[i]) << key << "[" << i << "]";
          } else if (!v.f64s.empty()) {
            ASSERT_EQ(val[i].get<double>(), v.f64s[i]) << key << "[" << i << "]";
          } else {
            ASSERT_EQ(val[i].get<int64_t>(), v.i64s[i]) << key << "[" << i << "]";
          }
        }
      } else if (v.is_string()) {
        EXPECT_EQ(val.get<std::string>(), v.str) << key;
      } else if (v.type == m::GgufValueType::FLOAT32 || v.type == m::GgufValueType::FLOAT64) {
        EXPECT_EQ(val.get<double>(), v.f64) << key;
      } else if (v.type == m::GgufValueType::BOOL) {
        EXPECT_EQ(val.get<bool>(), v.u64 != 0) << key;
      } else {
        EXPECT_EQ(val.get<int64_t>(), *v.as_int()) << key;
      }
    }
    ASSERT_EQ(py["tensors"].size(), f->tensors().size());
    for (std::size_t i = 0; i < f->tensors().size(); ++i) {
      const auto& t = f->tensors()[i];
      const auto& p = py["tensors"][i];
      EXPECT_EQ(p["name"].get<std::string>(), t.name);
      EXPECT_EQ(p["type"].get<uint32_t>(), static_cast<uint32_t>(t.type)) << t.name;
      EXPECT_EQ(p["ne"].get<std::vector<int64_t>>(), t.ne) << t.name;
      EXPECT_EQ(p["n_bytes"].get<uint64_t>(), t.nbytes) << t.name;
    }
  }
}

// Vocabulary-only GGUF for a tokenizer folder, converted back to tokenizer.json by `convert
// gguf --tokenizer-only`: both tokenizers must encode alike.
void vocab_round_trip(const std::string& src_dir, int64_t vocab_size, const std::string& name,
                      const std::function<void(const GgufFile&)>& check) {
  const std::string dir = axl::test::scratch_dir("gguf-vocab-" + name);
  m::GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.context_length", 4096);
  m::add_gguf_vocab(w, src_dir, vocab_size, -1, {});
  w.write(dir + "/v.gguf");
  auto f = GgufFile::open(dir + "/v.gguf");
  check(*f);
  m::convert_gguf_tokenizer(dir + "/v.gguf", dir + "/hf");
  auto a = axl::tokenizer::load_tokenizer(src_dir);
  auto b = axl::tokenizer::load_tokenizer(dir + "/hf");
  for (const std::string text : {"Hello, my dog is cute", "  leading spaces\n\nand 12345 digits", "naïve café — ünïcödé",
                                 "def f(x):\n\treturn x**2  # ok", "I'M HERE, you're THERE"}) {
    EXPECT_EQ(a->encode(text, false), b->encode(text, false)) << name << ": " << text;
    EXPECT_EQ(a->encode(text, true), b->encode(text, true)) << name << ": " << text;
  }
}

TEST(GgufExport, ByteLevelBpeBecomesGpt2VocabularyWithItsPreTokenizer) {
  AXL_REQUIRE_FIXTURE(tok, "tokenizers/llama3");
  vocab_round_trip(tok, 128256, "llama3", [](const GgufFile& f) {
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "llama3");
    EXPECT_EQ(f.find("tokenizer.ggml.tokens")->strs.size(), 128256u);
    EXPECT_EQ(f.find("tokenizer.ggml.merges")->strs.size(), 280147u);
    EXPECT_EQ(f.find("tokenizer.ggml.tokens")->strs[128000], "<|begin_of_text|>");
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->i64s[128000], 3);
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->i64s[1000], 1);
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 128000);
    EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 128001);
    EXPECT_EQ(f.find("tokenizer.ggml.scores"), nullptr);
  });
}

TEST(GgufExport, SentencepieceStyleTokenizerJsonBecomesLlamaVocabulary) {
  AXL_REQUIRE_FIXTURE(tok, "tokenizers/lenml-llama2-mistral32k");
  vocab_round_trip(tok, 32000, "mistral", [](const GgufFile& f) {
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(f.find("tokenizer.ggml.tokens")->strs.size(), 32000u);
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->i64s[0], 2);   // <unk>, as sentencepiece types it
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->i64s[1], 3);   // <s>: an added special token
    EXPECT_EQ(f.find("tokenizer.ggml.token_type")->i64s[3], 6);   // <0x00>
    EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
    EXPECT_EQ(f.find("tokenizer.ggml.add_bos_token")->u64, 1u);
  });
}

TEST(GgufExport, LoraAdapterHoldsPeftMatricesInLlamaCppLayout) {
  AXL_REQUIRE_FIXTURE(base, "hf-tiny/LlamaForCausalLM");
  for (const std::string which : {"lora", "methods/lora_rslora"}) {
    SCOPED_TRACE(which);
    const std::string path = axl::test::scratch_dir("gguf-lora") + "/a.gguf";
    m::export_lora_to_gguf(base + "/" + which, base, path, GgmlType::F32);
    auto f = GgufFile::open(path);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->get_string("general.type"), "adapter");
    EXPECT_EQ(f->get_string("adapter.type"), "lora");
    EXPECT_EQ(f->get_double("adapter.lora.alpha"), 8.0);
    ASSERT_EQ(f->tensors().size(), 28u);
    const m::ModelConfig c = m::load_model_config(base);
    auto peft = axl::SafetensorsFile::open(base + "/" + which + "/adapter_model.safetensors");
    const float fold = which == "lora" ? 1.0f : 2.0f;  // rsLoRA: (8/sqrt 4) / (8/4)
    for (const std::string proj : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.down_proj"}) {
      const std::string hf = "model.layers.1." + proj + ".weight";
      const std::string g = *m::gguf_llama_tensor_name(hf);
      const std::string key = "base_model.model.model.layers.1." + proj;
      const auto A = m::tensor_as_f32(peft->get(key + ".lora_A.weight"), "A");
      const auto B_view = peft->get(key + ".lora_B.weight");
      std::vector<float> B = m::tensor_as_f32(B_view, "B");
      if (int64_t h = m::gguf_llama_permute_heads(hf, c)) B = m::permute_qk_rows(B, h, B_view.info->shape[0], 4);
      for (float& x : B) x *= fold;
      const auto& ta = f->tensor(g + ".lora_a");
      const auto& tb = f->tensor(g + ".lora_b");
      EXPECT_EQ(ta.ne[1], 4);  // [in, r]
      EXPECT_EQ(tb.ne[0], 4);  // [r, out]: llama.cpp reads the rank here
      EXPECT_EQ(m::dequantize_tensor(*f, ta), A) << g;
      EXPECT_EQ(m::dequantize_tensor(*f, tb), B) << g;
    }
  }
  const std::string dir = axl::test::scratch_dir("gguf-lora-bad");
  EXPECT_THROW(m::export_lora_to_gguf(base + "/dora", base, dir + "/d.gguf", GgmlType::F32), axl::Error);
  EXPECT_THROW(m::export_lora_to_gguf(base + "/ia3", base, dir + "/i.gguf", GgmlType::F32), axl::Error);
  EXPECT_THROW(m::export_lora_to_gguf(base + "/lora", base, dir + "/q.gguf", GgmlType::Q8_0), axl::Error);
  EXPECT_TRUE(fs::is_empty(dir));
}

std::string axolotl_bin() {
  const char* b = std::getenv("AXL_BUILD_DIR");
  return b ? std::string(b) + "/bin/axolotl" : std::string();
}

// Runs the CLI; returns the exit status and fills `err` with its stderr.
int run_cli(const std::string& args, std::string& err) {
  const std::string log = axl::test::scratch_dir("gguf-export-cli-log") + "/stderr";
  const int status = std::system((axolotl_bin() + " " + args + " 2>" + log).c_str());
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  err = s.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(GgufExport, CliBadInputsGiveOneErrorLineAndExit2) {
  AXL_REQUIRE_FIXTURE(tiny, "hf-tiny");
  AXL_REQUIRE_FIXTURE(fix, "llama2c-stories260K");
  if (axolotl_bin().empty() || !fs::exists(axolotl_bin())) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  const std::string out = axl::test::scratch_dir("gguf-export-cli") + "/m.gguf";
  const std::string stories = stories_hf(fix);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--model " + stories + " --outtype q5_k --out " + out, "--outtype 'q5_k' is not supported"},
      {"--model " + tiny + "/Qwen2ForCausalLM --out " + out, "model_type 'qwen2' cannot be exported"},
      {"--model " + tiny + "/LlamaForCausalLM --out " + out, "has no tokenizer"},
      {"--out " + out, "give exactly one of --model DIR or --config CONFIG"},
      {"--model " + tiny + "/LlamaForCausalLM --adapter " + tiny + "/LlamaForCausalLM/dora --outtype f32 --out " + out,
       "DoRA adapters have no llama.cpp representation"},
      {"--model " + stories + " --out /nonexistent-folder/m.gguf", "does not exist"},
  };
  for (const auto& [args, want] : cases) {
    std::string err;
    EXPECT_EQ(run_cli("export gguf " + args, err), 2) << args;
    EXPECT_EQ(err.rfind("axolotl: error: ", 0), 0u) << err;
    EXPECT_NE(err.find(want), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  EXPECT_FALSE(fs::exists(out));
  std::string err;
  ASSERT_EQ(run_cli("export gguf --model " + stories + " --outtype q8_0 --out " + out, err), 0) << err;
  EXPECT_EQ(GgufFile::open(out)->get_int("general.file_type"), 7);
}

}  // namespace

namespace {

TEST(GgufExport, CliConfigExportsWhatTrainingProduced) {
  AXL_REQUIRE_FIXTURE(fix, "llama2c-stories260K");
  if (axolotl_bin().empty() || !fs::exists(axolotl_bin())) GTEST_SKIP() << "AXL_BUILD_DIR not set";
  const std::string dir = axl::test::scratch_dir("gguf-export-config");
  const std::string stories = stories_hf(fix);
  std::ofstream(dir + "/data.json") << R"([{"instruction": "a", "input": "", "output": "b"}])";
  const std::string common = "base_model: " + stories + "\ndatasets:\n  - path: " + dir +
                             "/data.json\n    type: alpaca\nsequence_len: 64\nmicro_batch_size: 1\nnum_epochs: 1\n"
                             "learning_rate: 0.001\n";
  std::ofstream(dir + "/full.yml") << common << "output_dir: " << dir << "/not-trained-yet\n";
  std::ofstream(dir + "/lora.yml") << common << "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n"
                                   << "output_dir: " << dir << "/no-adapter-here\n";
  std::string err;
  // A full fine-tune without output yet: the base model, exactly as --model writes it.
  ASSERT_EQ(run_cli("export gguf --config " + dir + "/full.yml --outtype q8_0 --out " + dir + "/a.gguf", err), 0) << err;
  EXPECT_NE(err.find("holds no trained model yet"), std::string::npos) << err;
  ASSERT_EQ(run_cli("export gguf --model " + stories + " --outtype q8_0 --out " + dir + "/b.gguf", err), 0) << err;
  std::ifstream a(dir + "/a.gguf", std::ios::binary), b(dir + "/b.gguf", std::ios::binary);
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
  // An adapter config whose output_dir holds no adapter: one error, before any torch work.
  EXPECT_EQ(run_cli("export gguf --config " + dir + "/lora.yml --out " + dir + "/c.gguf", err), 2);
  EXPECT_NE(err.find("holds no trained adapter"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir + "/c.gguf"));
}

}  // namespace
