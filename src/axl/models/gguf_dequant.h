#pragma once
// ggml tensor types -> float32, bit-identical to gguf-py's `gguf.quants.dequantize` (the
// reference the tests compare against): every block is decoded with the same float32
// operations in the same order (f16 scales widened exactly, then d*q, then +/- the offset),
// so results match to the bit, not just to a tolerance. The .cpp is compiled with
// -ffp-contract=off: the products involved happen to be exact today, but bit-exactness should
// not hang on a compiler fusing d*q+m into one FMA rounding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "axl/models/gguf_file.h"

namespace axl::models {

// Types with a decoder: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K,
// Q5_K, Q6_K.
bool can_dequantize(GgmlType t);

// IEEE half -> float, exact for every input (subnormals, infinities, NaN payloads).
float f16_to_f32(uint16_t h);

// Decodes `numel` elements from `nbytes` bytes at `src` into `dst`. `numel` must be a whole
// number of blocks and `nbytes` their exact size (std::logic_error otherwise: callers size
// both from a validated GgufTensorInfo). Throws axl::Error for a type without a decoder.
void dequantize(GgmlType type, const unsigned char* src, std::size_t nbytes, float* dst,
                int64_t numel);

// One tensor of an open file, as float32 in ggml's memory order (row-major torch shape
// t.shape()). Errors name the file and the tensor.
std::vector<float> dequantize_tensor(const GgufFile& file, const GgufTensorInfo& t);

}  // namespace axl::models
