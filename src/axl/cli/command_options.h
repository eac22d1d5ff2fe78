#pragma once
// Options of the subcommands that run in the torch-linked library. The front end (main.cpp,
// cmd_*.cpp) fills them without libtorch; libaxl_torch.so's entry points (torch_entry.h)
// receive them. Plain data only: this header crosses the dlopen boundary.
#include <cstdint>
#include <string>
#include <vector>

#include "axl/config/config.h"

namespace axl::cli {

struct CommonTorchOptions {
  std::string device = "cpu";
  std::string dtype = "float32";
  int threads = 0;  // 0: libtorch's default
};

// --adapter DIR (repeatable), --adapter-weights, --combination: several PEFT adapters on one
// base. Without weights all are active together (PEFT's set_adapter with a list); with
// weights they become one LoRA adapter (PEFT's add_weighted_adapter).
struct AdapterChoice {
  std::vector<std::string> dirs;
  std::vector<double> weights;  // empty: all active together
  std::string combination;      // linear, cat or svd; "": linear for equal ranks, else cat
  int64_t svd_rank = 0;         // 0: the largest input rank
};

struct ForwardOptions {
  CommonTorchOptions common;
  std::string model, input, out;
  std::string mask_key = "attention_mask";
  std::string labels_key = "labels";
  std::string attention = "auto";  // auto, eager, sdpa
  bool hidden_states = false;
  AdapterChoice adapters;
  std::string grads;  // with one adapter: write its gradients of the loss here
};

struct MergeOptions {
  CommonTorchOptions common;  // dtype: of the written weights (the merge itself runs in float32)
  std::string model, out;
  AdapterChoice adapters;  // merged one after another, or their weighted combination
  int64_t max_shard_bytes = 50'000'000'000;  // transformers 5's save_pretrained default, "50GB"
};

// Sampling and stopping flags shared by `generate` and `inference`.
struct GenerationFlags {
  int64_t max_new_tokens = 32;
  double temperature = 0.0;  // 0: greedy
  int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
  bool ignore_eos = false;
};

struct GenerateOptions {
  CommonTorchOptions common;
  GenerationFlags gen;
  std::string model;
  AdapterChoice adapters;   // none: the model alone
  std::string prompt_ids;   // either these ids ...
  std::string prompt_text;  // ... or this text, encoded with the model's tokenizer
  std::string tokenizer;    // tokenizer folder for prompt_text (default: the model folder)
  bool no_special = false;  // encode prompt_text without BOS/special tokens
  bool output_ids = false;
};

// `axolotl inference CONFIG`: the front end validates the config and reads the prompt.
struct InferenceOptions {
  CommonTorchOptions common;
  GenerationFlags gen;
  const config::Config* config = nullptr;
  AdapterChoice adapters;  // none (and no_adapter false): none found, the base model alone
  bool no_adapter = false;
  std::string prompt;  // the user's text, formatted as the config's first dataset trains
  bool raw = false;    // no formatting: the text as it is (with the tokenizer's BOS)
  bool show_prompt = false;  // print the formatted prompt to stderr first
};

// `axolotl train`: the front end loads and validates the config; the torch side trains.
struct TrainOptions {
  CommonTorchOptions common;  // dtype comes from the config (bf16), not from here
  const config::Config* config = nullptr;
};

}  // namespace axl::cli
