#pragma once
// Building a CausalLM: from a Hugging Face model folder (config.json + safetensors, single or
// sharded), or with random weights (benchmarks, the meta-device test).
#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <string>

#include "axl/models/causal_lm.h"

namespace axl::models {

struct LoadOptions {
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::Device(at::kCPU);
  // Weights from a memory-mapped file are read-only. Ask for copies when they will be
  // changed in place (full fine-tuning, merges).
  bool writable = false;
};

CausalLM load_causal_lm(const std::string& model_dir, const LoadOptions& opts = {});

// Checkpoints quantized by bitsandbytes (quantization_config in config.json) are loaded by
// quant/, which this module may not include: it registers a loader here that load_causal_lm
// asks first; the loader returns nothing for a checkpoint it does not take.
using QuantizedCheckpointLoader = std::function<std::optional<CausalLM>(const std::string& dir, const LoadOptions&)>;
void set_quantized_checkpoint_loader(QuantizedCheckpointLoader loader);

// Random N(0, std) weights (norm weights at their neutral value), seeded; on `meta` only
// shapes are made.
CausalLM random_causal_lm(const ModelConfig& cfg, const LoadOptions& opts, uint64_t seed,
                          double std = 0.02);

// The general builder: `source(name, shape)` returns the tensor for a Hugging Face weight
// name in [out, in] layout (conv1d transposition is the caller's business) or throws.
using TensorSource = std::function<at::Tensor(const std::string& name, at::IntArrayRef shape)>;
CausalLM build_causal_lm(const ModelConfig& cfg, const TensorSource& source, const LoadOptions& opts);

}  // namespace axl::models
