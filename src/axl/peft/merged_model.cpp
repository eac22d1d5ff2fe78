#include "axl/peft/merged_model.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/models/weight_names.h"

namespace axl::peft {

namespace fs = std::filesystem;

namespace {

// config.json's spelling of a dtype (transformers' str(torch.float32) without "torch.").
const char* config_dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kDouble: return "float64";
    default: throw Error(std::string("cannot save a merged model in ") + c10::toString(t));
  }
}

std::string shard_name(size_t index, size_t count) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

// Weight files save_pretrained may have left: model.safetensors, its index, and shards.
bool is_weight_file(const std::string& name) {
  if (name == "model.safetensors" || name == "model.safetensors.index.json") return true;
  unsigned a = 0, b = 0;
  char tail[32] = {0};
  return std::sscanf(name.c_str(), "model-%5u-of-%5u.%31s", &a, &b, tail) == 3 &&
         std::string(tail) == "safetensors" && name.size() == std::string("model-00001-of-00001.safetensors").size();
}

void copy_file_atomic(const fs::path& src, const fs::path& dst) {
  const fs::path tmp = dst.string() + ".tmp";
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, dst);
}

}  // namespace

std::vector<std::vector<size_t>> plan_shards(const std::vector<int64_t>& tensor_bytes, int64_t max_shard_bytes) {
  std::vector<std::vector<size_t>> shards;
  std::vector<size_t> current;
  int64_t current_bytes = 0;
  for (size_t i = 0; i < tensor_bytes.size(); ++i) {
    if (tensor_bytes[i] > max_shard_bytes) {  // alone, in its own shard, placed where it comes
      shards.push_back({i});
      continue;
    }
    if (current_bytes + tensor_bytes[i] > max_shard_bytes) {
      shards.push_back(std::move(current));
      current.clear();
      current_bytes = 0;
    }
    current.push_back(i);
    current_bytes += tensor_bytes[i];
  }
  if (!current.empty()) shards.push_back(std::move(current));
  return shards;
}

void save_merged_model(models::CausalLM& model, const std::string& base_dir, const std::string& out_dir,
                       const MergedSaveOptions& options) {
  for (models::LinearSlot* slot : model.slots())
    if (!slot->adapters.empty())
      throw Error("cannot save a merged model: " + slot->name + " still holds an unmerged adapter");
  if (model.config.tie_word_embeddings &&
      model.lm_head.base->dense_weight().data_ptr() != model.embed.data_ptr())
    throw Error("cannot save a merged model: the adapter changed lm_head, which config.json ties to the "
                "embeddings (tie_word_embeddings true)");
  if (fs::absolute(base_dir).lexically_normal() == fs::absolute(out_dir).lexically_normal())
    throw Error("merge output folder must differ from the base model folder " + base_dir);
  if (options.max_shard_bytes <= 0) throw Error("max shard size must be positive");

  // The state dict in the model's module order (what save_pretrained shards by).
  const bool conv1d = models::weight_names_for(model.config).conv1d;
  const at::ScalarType dtype = options.dtype.value_or(model.embed.scalar_type());
  std::vector<std::pair<std::string, at::Tensor>> tensors = model.named_tensors();
  std::vector<int64_t> bytes;
  int64_t total_bytes = 0, total_parameters = 0;
  for (auto& [name, t] : tensors) {
    t = t.detach();
    // Our slots hold [out, in]; GPT-2 checkpoints store its Conv1D layers as [in, out].
    if (conv1d && t.dim() == 2 && name.find(".h.") != std::string::npos) t = t.t();
    bytes.push_back(t.numel() * static_cast<int64_t>(c10::elementSize(dtype)));
    total_bytes += bytes.back();
    total_parameters += t.numel();
  }
  const std::vector<std::vector<size_t>> shards = plan_shards(bytes, options.max_shard_bytes);

  fs::create_directories(out_dir);
  std::set<std::string> written;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string file = shards.size() == 1 ? "model.safetensors" : shard_name(s, shards.size());
    std::map<std::string, at::Tensor> shard;  // converted one shard at a time: no second full copy
    for (size_t i : shards[s]) {
      shard[tensors[i].first] = tensors[i].second.to(dtype).contiguous();
      weight_map[tensors[i].first] = file;
    }
    save_safetensors(out_dir + "/" + file, shard, {{"format", "pt"}});
    written.insert(file);
  }
  if (shards.size() > 1) {
    nlohmann::json index = {{"metadata", {{"total_parameters", total_parameters}, {"total_size", total_bytes}}},
                            {"weight_map", weight_map}};
    write_file_atomic(out_dir + "/model.safetensors.index.json", index.dump(2) + "\n");
    written.insert("model.safetensors.index.json");
  }
  for (const auto& entry : fs::directory_iterator(out_dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_weight_file(name) && !written.count(name)) fs::remove(entry.path());
  }

  for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja"}) {
    fs::path src = fs::path(base_dir) / f;
    if (fs::exists(src)) copy_file_atomic(src, fs::path(out_dir) / f);
  }
  // config.json describes the written weights: their dtype ("dtype" in transformers 5,
  // "torch_dtype" before; both kept in step) and the vocabulary added tokens grew.
  const std::string base_config = (fs::path(base_dir) / "config.json").string();
  if (fs::exists(base_config)) {
    nlohmann::json c = read_json_file(base_config);
    if (!c.is_object()) throw Error(base_config + ": not a JSON object");
    if (c.contains("vocab_size")) c["vocab_size"] = model.embed.size(0);
    c["dtype"] = config_dtype_name(dtype);
    // A quantized base (QLoRA) is written dequantized: the merged weights are dense, so the
    // bitsandbytes settings would make transformers misread them.
    c.erase("quantization_config");
    if (c.contains("torch_dtype")) c["torch_dtype"] = config_dtype_name(dtype);
    write_file_atomic(out_dir + "/config.json", c.dump(2) + "\n");
  }
}

}  // namespace axl::peft
