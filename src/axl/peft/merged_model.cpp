#include "axl/peft/merged_model.h"

#include <filesystem>

#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/models/weight_names.h"

namespace axl::peft {

namespace fs = std::filesystem;

void save_merged_model(models::CausalLM& model, const std::string& base_dir, const std::string& out_dir) {
  for (models::LinearSlot* slot : model.slots())
    if (!slot->adapters.empty())
      throw Error("cannot save a merged model: " + slot->name + " still holds an unmerged adapter");
  if (model.config.tie_word_embeddings &&
      model.lm_head.base->dense_weight().data_ptr() != model.embed.data_ptr())
    throw Error("cannot save a merged model: the adapter changed lm_head, which config.json ties to the "
                "embeddings (tie_word_embeddings true)");
  if (fs::absolute(base_dir).lexically_normal() == fs::absolute(out_dir).lexically_normal())
    throw Error("merge output folder must differ from the base model folder " + base_dir);

  const bool conv1d = models::weight_names_for(model.config).conv1d;
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, t] : model.named_tensors()) {
    at::Tensor w = t.detach();
    // Our slots hold [out, in]; GPT-2 checkpoints store its Conv1D layers as [in, out].
    if (conv1d && w.dim() == 2 && name.find(".h.") != std::string::npos) w = w.t().contiguous();
    tensors[name] = w;
  }
  fs::create_directories(out_dir);
  save_safetensors(out_dir + "/model.safetensors", tensors, {{"format", "pt"}});
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt",
                        "added_tokens.json", "chat_template.jinja"}) {
    fs::path src = fs::path(base_dir) / f;
    if (fs::exists(src)) fs::copy_file(src, fs::path(out_dir) / f, fs::copy_options::overwrite_existing);
  }
}

}  // namespace axl::peft
