#include "axl/models/llama2c_convert.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/safetensors.h"
#include "axl/models/llama2c_file.h"

namespace axl::models {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Rows of one layer's [n_heads * head_size, cols] projection from interleaved pairs to halves.
std::vector<float> permute_rotary(const float* w, int64_t n_heads, int64_t rows, int64_t cols) {
  const int64_t head = rows / n_heads, half = head / 2;
  std::vector<float> out(static_cast<std::size_t>(rows * cols));
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t p = 0; p < 2; ++p) {
        const float* src = w + (h * head + 2 * j + p) * cols;
        float* dst = out.data() + (h * head + p * half + j) * cols;
        std::copy(src, src + cols, dst);
      }
  return out;
}

}  // namespace

void convert_llama2c(const Llama2cConvertOptions& opts) {
  if (opts.out_dir.empty()) throw Error("convert llama2c: --out is required");
  Llama2cCheckpoint ck = read_llama2c(opts.checkpoint);
  const Llama2cConfig& c = ck.config;
  if (!opts.tokenizer.empty() && !fs::is_regular_file(opts.tokenizer))
    throw Error(opts.tokenizer + ": tokenizer file not found");
  std::error_code ec;
  fs::create_directories(opts.out_dir, ec);
  if (ec) throw Error(opts.out_dir + ": cannot create folder: " + ec.message());

  const int64_t L = c.n_layers, D = c.dim, H = c.hidden_dim, KV = c.kv_dim();
  std::vector<std::vector<float>> keep;  // owns permuted copies until written
  std::vector<TensorToWrite> items;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, const float* data) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    items.push_back({name, DType::F32, std::move(shape), data, n * 4});
  };
  add("model.embed_tokens.weight", {c.vocab_size, D}, ck.tensors["tok_embeddings"].data.data());
  add("model.norm.weight", {D}, ck.tensors["norm"].data.data());
  if (!c.shared_classifier) add("lm_head.weight", {c.vocab_size, D}, ck.tensors["wcls"].data.data());
  keep.reserve(static_cast<std::size_t>(2 * L));
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto slice = [&](const char* name, int64_t per_layer) { return ck.tensors[name].data.data() + l * per_layer; };
    keep.push_back(permute_rotary(slice("wq", D * D), c.n_heads, D, D));
    add(p + "self_attn.q_proj.weight", {D, D}, keep.back().data());
    keep.push_back(permute_rotary(slice("wk", KV * D), c.n_kv_heads, KV, D));
    add(p + "self_attn.k_proj.weight", {KV, D}, keep.back().data());
    add(p + "self_attn.v_proj.weight", {KV, D}, slice("wv", KV * D));
    add(p + "self_attn.o_proj.weight", {D, D}, slice("wo", D * D));
    add(p + "mlp.gate_proj.weight", {H, D}, slice("w1", H * D));
    add(p + "mlp.down_proj.weight", {D, H}, slice("w2", D * H));
    add(p + "mlp.up_proj.weight", {H, D}, slice("w3", H * D));
    add(p + "input_layernorm.weight", {D}, slice("attention_norm", D));
    add(p + "post_attention_layernorm.weight", {D}, slice("ffn_norm", D));
  }
  fs::path out(opts.out_dir);
  write_safetensors((out / "model.safetensors").string(), items, {{"format", "pt"}});

  json config = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
      {"hidden_size", D}, {"intermediate_size", H}, {"num_hidden_layers", L},
      {"num_attention_heads", c.n_heads}, {"num_key_value_heads", c.n_kv_heads},
      {"head_dim", c.head_size()}, {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.seq_len}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
      {"hidden_act", "silu"}, {"tie_word_embeddings", c.shared_classifier},
      {"attention_bias", false}, {"mlp_bias", false}, {"bos_token_id", 1}, {"eos_token_id", 2},
      {"torch_dtype", "float32"}, {"initializer_range", 0.02}, {"use_cache", true}};
  write_file_atomic((out / "config.json").string(), config.dump(2) + "\n");
  json gen = {{"bos_token_id", 1}, {"eos_token_id", 2}};
  write_file_atomic((out / "generation_config.json").string(), gen.dump(2) + "\n");

  if (!opts.tokenizer.empty()) {
    std::ifstream in(opts.tokenizer, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    write_file_atomic((out / "tokenizer.model").string(), ss.str());
    json tok = {{"tokenizer_class", "LlamaTokenizer"}, {"bos_token", "<s>"}, {"eos_token", "</s>"},
                {"unk_token", "<unk>"}, {"pad_token", nullptr}, {"add_bos_token", true},
                {"add_eos_token", false}, {"legacy", true}, {"clean_up_tokenization_spaces", false},
                {"model_max_length", c.seq_len}, {"sp_model_kwargs", json::object()}};
    write_file_atomic((out / "tokenizer_config.json").string(), tok.dump(2) + "\n");
    json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}};
    write_file_atomic((out / "special_tokens_map.json").string(), special.dump(2) + "\n");
  }
}

}  // namespace axl::models
