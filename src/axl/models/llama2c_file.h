#pragma once
// Karpathy's llama2.c checkpoints (run.c / export.py): the legacy v0 layout (7 int32 header,
// weights stacked per kind, freq_cis tables, optional classifier) and the v1 layout (256-byte
// header "ak42", norms first, fp32). Plain C++, no libtorch.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace axl::models {

struct Llama2cConfig {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0,
          seq_len = 0;
  bool shared_classifier = true;
  int version = 0;
  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return n_kv_heads * dim / n_heads; }
};

struct Llama2cTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct Llama2cCheckpoint {
  Llama2cConfig config;
  // Per-kind stacks as llama2.c names them: tok_embeddings, attention_norm [L, D], wq [L, D, D],
  // wk, wv, wo, ffn_norm, w1, w2, w3, norm, and wcls when the classifier is not shared.
  std::map<std::string, Llama2cTensor> tensors;
};

Llama2cCheckpoint read_llama2c(const std::string& path);
// Writes the v1 layout (used by tests to check both readers agree).
void write_llama2c_v1(const std::string& path, const Llama2cCheckpoint& ckpt);

}  // namespace axl::models
