#pragma once
// Options of `axolotl quantize` (plain data: crosses the dlopen boundary to quantize_run.cpp).
#include <cstdint>
#include <string>

#include "axl/cli/command_options.h"

namespace axl::cli {

struct QuantizeOptions {
  CommonTorchOptions common;   // dtype: of the weights that stay dense (embeddings, norms, head)
  std::string model, out;
  int bits = 4;                 // 4 (bitsandbytes NF4/FP4) or 8 (LLM.int8 row-wise)
  std::string quant_type = "nf4";
  bool double_quant = true;
  int64_t blocksize = 64;
  std::string compute_dtype = "float32";
};

}  // namespace axl::cli

extern "C" __attribute__((visibility("default"))) int axl_quantize_main(const axl::cli::QuantizeOptions* opts);
