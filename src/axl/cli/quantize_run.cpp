// The torch side of `axolotl quantize`: load dense, quantize every linear slot but the head,
// write the bitsandbytes-format folder (beside the target, then renamed into place).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "axl/cli/quantize_options.h"
#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/models/loader.h"
#include "axl/quant/bnb_checkpoint.h"
#include "axl/quant/quantized_linear.h"

namespace axl::cli {

namespace fs = std::filesystem;

namespace {

void run_quantize(const QuantizeOptions& o) {
  apply_common_options(o.common);
  const fs::path out = fs::absolute(o.out).lexically_normal();
  if (out == fs::absolute(o.model).lexically_normal())
    throw Error("quantize: the output folder must differ from the model folder " + o.model);
  if (quant::is_bnb_checkpoint(o.model)) throw Error("quantize: " + o.model + " is already bitsandbytes-quantized");
  quant::QuantizeSpec spec;
  spec.bits = o.bits;
  spec.type = quant::parse_quant4_type(o.quant_type);
  spec.blocksize = o.blocksize;
  spec.double_quant = o.double_quant;
  spec.compute_dtype = quant::parse_compute_dtype(o.compute_dtype, "--compute-dtype");
  models::LoadOptions lo;
  lo.device = at::Device(at::kCPU);
  lo.dtype = parse_dtype(o.common.dtype);
  models::CausalLM model = models::load_causal_lm(o.model, lo);
  const int n = quant::quantize_linear_slots(model, spec);
  int64_t quant_bytes = 0, params = 0;
  for (models::LinearSlot* slot : model.slots())
    if (auto b = std::dynamic_pointer_cast<quant::QuantizedBase>(slot->base)) {
      quant_bytes += b->storage_bytes();
      params += b->in_features() * b->out_features();
    }
  const fs::path fresh = out.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(fresh);
  try {
    quant::save_bnb_checkpoint(model, o.model, fresh.string(), spec);
    if (fs::exists(out)) fs::remove_all(out);
    fs::rename(fresh, out);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(fresh, ec);
    throw;
  }
  std::fprintf(stderr, "quantized %d linear layers to %s (%.3f bytes per weight) into %s\n", n,
               spec.bits == 8 ? "int8" : (quant::quant4_type_name(spec.type) + (spec.double_quant ? "+double-quant" : "")).c_str(),
               params ? static_cast<double>(quant_bytes) / static_cast<double>(params) : 0.0, o.out.c_str());
}

}  // namespace
}  // namespace axl::cli

int axl_quantize_main(const axl::cli::QuantizeOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_quantize(*opts); });
}
