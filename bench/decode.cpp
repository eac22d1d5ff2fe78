// Decode throughput (tokens/s, batch 1, greedy, KV cache) on --device (default cpu) for a model folder or a
// randomly initialised Llama of a given size. Prints one JSON line.
#include <ATen/Parallel.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "axl/core/device.h"
#include "axl/models/generation.h"
#include "axl/models/loader.h"

int main(int argc, char** argv) {
  std::string model_dir, name = "random-llama-100M", device = "cpu", dtype = "float32";
  int threads = 1, tokens = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_dir = v, name = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--tokens") tokens = std::stoi(v);
    else if (k == "--name") name = v;
    else if (k == "--device") device = v;
    else if (k == "--dtype") dtype = v;
  }
  at::set_num_threads(threads);
  axl::models::LoadOptions lo;
  lo.device = axl::parse_device(device);
  lo.dtype = axl::parse_dtype(dtype);
  axl::models::CausalLM model;
  if (!model_dir.empty()) {
    model = axl::models::load_causal_lm(model_dir, lo);
  } else {
    // ~100M parameters: 12 layers of 768 wide (GQA 12/4 heads), 2048 MLP, 32000 vocab.
    auto cfg = axl::models::parse_model_config(R"({"model_type":"llama","vocab_size":32000,
      "hidden_size":768,"intermediate_size":2048,"num_hidden_layers":12,"num_attention_heads":12,
      "num_key_value_heads":4,"max_position_embeddings":2048,"tie_word_embeddings":true})", "bench");
    model = axl::models::random_causal_lm(cfg, lo, 0);
  }
  int64_t params = 0;
  for (auto& [n, t] : model.named_tensors()) params += t.numel();
  axl::models::GenerateOptions opts;
  opts.stop_at_eos = false;
  opts.max_new_tokens = 8;
  axl::models::generate(model, {1}, opts);  // warm-up
  opts.max_new_tokens = tokens;
  auto t0 = std::chrono::steady_clock::now();
  auto ids = axl::models::generate(model, {1}, opts);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json out = {{"bench", "decode"}, {"model", name}, {"params", params},
                        {"threads", threads}, {"tokens", ids.size()},
                        {"tokens_per_s", ids.size() / s}, {"device", device}, {"dtype", dtype}};
  std::cout << out.dump() << std::endl;
}
