#pragma once
// float32 -> the ggml types `axolotl export gguf` writes (F32, F16, BF16, Q8_0, Q4_0), byte for
// byte as gguf-py's `gguf.quants.quantize` (and ggml's reference quantize_row_q8_0 /
// quantize_row_q4_0) encode them: the same float32 operations in the same order, half
// precision rounded to nearest-even as numpy's astype(float16) rounds. The .cpp is compiled
// with -ffp-contract=off so x*id + 8.5 is never fused into one rounding.
#include <cstdint>
#include <vector>

#include "axl/models/gguf_file.h"

namespace axl::models {

bool can_quantize(GgmlType t);

// IEEE binary16 bits of `f`, rounded to nearest-even (NaN stays NaN, overflow gives inf).
uint16_t f32_to_f16(float f);
// bfloat16 bits as ggml_compute_fp32_to_bf16: nearest-even, NaN forced quiet.
uint16_t f32_to_bf16(float f);

// `numel` values -> their encoding; numel must be a whole number of the type's blocks
// (std::logic_error otherwise: callers check row lengths first, GgufWriter::add_tensor does).
std::vector<unsigned char> quantize(GgmlType type, const float* src, int64_t numel);

}  // namespace axl::models
