#pragma once
// Finding a model folder named by the config: a local directory, or a Hugging Face hub id
// looked up offline in the local HF cache (models--ORG--NAME/snapshots/<commit>/).
#include <optional>
#include <string>

#include "axl/config/config.h"

namespace axl::config {

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (huggingface_hub's order).
std::string hf_hub_cache_dir();

// `revision` is a commit hash or a ref name (refs/<name> in the cache holds its commit);
// unset means "main". `key` and `where` name the config key and its location in errors.
// Throws axl::Error saying every place that was looked at when nothing is found.
ModelSource resolve_model_source(const std::string& spec, const std::optional<std::string>& revision,
                                 const std::string& key, const std::string& where);

}  // namespace axl::config
