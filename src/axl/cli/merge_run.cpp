// The torch side of `axolotl merge-lora`.
#include <cstdio>

#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/models/loader.h"
#include "axl/peft/adapter_io.h"
#include "axl/peft/merged_model.h"

namespace axl::cli {

namespace {

void run_merge(const MergeOptions& o) {
  apply_common_options(o.common);
  models::LoadOptions lo;
  lo.device = parse_device(o.common.device);
  lo.dtype = parse_dtype(o.common.dtype);
  models::CausalLM model = models::load_causal_lm(o.model, lo);
  peft::Adapter adapter = peft::load_adapter(model, o.adapter);
  adapter.merge();
  peft::save_merged_model(model, o.model, o.out);
  std::fprintf(stderr, "merged %zu LoRA layers into %s\n", adapter.layers.size(), o.out.c_str());
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_merge_main(const axl::cli::MergeOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_merge(*opts); });
}
