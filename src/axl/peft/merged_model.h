#pragma once
// Writing a model whose adapters are merged as a plain Hugging Face model folder, as
// transformers' save_pretrained lays it out: config.json (dtype and vocab_size of the written
// weights), model.safetensors, or shards model-0000K-of-0000N.safetensors with
// model.safetensors.index.json when the weights exceed max_shard_bytes (Conv1D weights back in
// GPT-2's [in, out] layout), and the tokenizer/generation files of the base folder, so
// transformers loads it alone.
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "axl/models/causal_lm.h"

namespace axl::peft {

struct MergedSaveOptions {
  int64_t max_shard_bytes = 50'000'000'000;  // transformers 5.14's save_pretrained default, "50GB"
  std::optional<at::ScalarType> dtype;       // of the written weights; unset: as the model holds them
};

// huggingface_hub's split of a state dict into shards, in the dict's order: a tensor larger
// than the limit gets a shard of its own; otherwise a shard is closed when the next tensor
// would overflow it. Returns the indices of the tensors of each shard.
std::vector<std::vector<size_t>> plan_shards(const std::vector<int64_t>& tensor_bytes, int64_t max_shard_bytes);

// `base_dir` is the folder the model was loaded from (config and tokenizer files come from
// there). Each file is written atomically; weight files of an earlier save that this one does
// not rewrite are removed (a stale model.safetensors would shadow new shards). Throws
// axl::Error when a slot still holds an unmerged adapter.
void save_merged_model(models::CausalLM& model, const std::string& base_dir, const std::string& out_dir,
                       const MergedSaveOptions& options = {});

}  // namespace axl::peft
