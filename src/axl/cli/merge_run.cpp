// The torch side of `axolotl merge-lora`: the merge runs in float32 whatever the written
// dtype, and the output folder appears whole or not at all (written beside it, then renamed).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "axl/cli/cli_adapters.h"
#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/models/loader.h"
#include "axl/peft/merged_model.h"

namespace axl::cli {

namespace fs = std::filesystem;

namespace {

// Replaces `out` by the folder `fresh` in two renames; a crash between them leaves the old
// folder under `old` and the new one complete under `fresh`.
void replace_folder(const fs::path& fresh, const fs::path& out) {
  if (!fs::exists(out)) {
    fs::rename(fresh, out);
    return;
  }
  if (!fs::is_directory(out)) throw Error("merge-lora: --out " + out.string() + " exists and is not a folder");
  const fs::path old = out.string() + ".old-" + std::to_string(::getpid());
  fs::rename(out, old);
  fs::rename(fresh, out);
  fs::remove_all(old);
}

// An absolute path without a trailing separator ("out/" names the folder "out").
fs::path folder_path(const std::string& p) {
  fs::path f = fs::absolute(p).lexically_normal();
  return f.has_filename() ? f : f.parent_path();
}

void run_merge(const MergeOptions& o) {
  apply_common_options(o.common);
  const fs::path out = folder_path(o.out);
  if (out == folder_path(o.model))
    throw Error("merge-lora: the output folder must differ from the base model folder " + o.model);
  peft::MergedSaveOptions so;
  so.dtype = parse_dtype(o.common.dtype);
  so.max_shard_bytes = o.max_shard_bytes;
  models::LoadOptions lo;
  lo.device = parse_device(o.common.device);
  lo.dtype = at::kFloat;
  models::CausalLM model = models::load_causal_lm(o.model, lo);
  std::unique_ptr<peft::AdapterSet> adapters = load_cli_adapters(model, o.adapters);
  if (!adapters) throw Error("merge-lora: no --adapter given");
  // What merges and what it is called, before any weight changes.
  std::string methods;
  std::vector<std::string> types;
  std::size_t layers = 0;
  for (const auto& name : adapters->active()) {
    peft::Adapter& a = adapters->get(name);
    // DoRA is PEFT's LORA type with use_dora; name it as users know it.
    const std::string type = a.config->peft_type() + (a.config->to_json().value("use_dora", false) ? " (DoRA)" : "");
    if (!a.config->can_merge())
      throw Error("merge-lora: " + describe_cli_adapters(o.adapters, adapters.get()) + ": " + type +
                  " adapters cannot be merged into the base weights (PEFT cannot either); use them with --adapter "
                  "in inference or generate");
    if (std::find(types.begin(), types.end(), type) == types.end()) {
      types.push_back(type);
      methods += (methods.empty() ? "" : "+") + type;
    }
    layers += a.layers.size();
  }
  adapters->merge();

  fs::create_directories(out.parent_path());
  const fs::path fresh = out.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(fresh);
  try {
    peft::save_merged_model(model, o.model, fresh.string(), so);
    replace_folder(fresh, out);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(fresh, ec);
    throw;
  }
  std::fprintf(stderr, "merged %zu %s layers (%s) into %s (%s)\n", layers, methods.c_str(),
               describe_cli_adapters(o.adapters, adapters.get()).c_str(), o.out.c_str(), o.common.dtype.c_str());
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_merge_main(const axl::cli::MergeOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_merge(*opts); });
}
