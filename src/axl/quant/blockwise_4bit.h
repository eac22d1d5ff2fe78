#pragma once
// Blockwise 4-bit quantisation exactly as bitsandbytes defines it: the weight is flattened
// row-major and cut into blocks (64 values by default, 32..4096); each block keeps one
// float32 absmax and each value the 4-bit code of the nearest table entry of value/absmax.
// Two codes per byte, the first element in the high nibble. Double quantisation stores the
// absmax vector minus its mean as 8-bit dynamic codes in blocks of 256.
#include <ATen/ATen.h>

#include <vector>

#include "axl/quant/code_tables.h"

namespace axl::quant {

struct Quantized4bit {
  Quant4Type type = Quant4Type::NF4;
  int64_t blocksize = 64;
  std::vector<int64_t> shape;             // the original weight's shape
  at::ScalarType dtype = at::kFloat;      // the original weight's dtype (quant_state "dtype")
  at::Tensor packed;                      // uint8 [ceil(numel / 2), 1]
  at::Tensor absmax;                      // float32 [blocks]; uint8 codes when nested
  at::Tensor code;                        // float32 [16] (saved as weight.quant_map)
  // Double quantisation (bitsandbytes' state2):
  bool nested = false;
  at::Tensor nested_absmax;               // float32 [ceil(blocks / 256)]
  at::Tensor nested_code;                 // float32 [256]
  int64_t nested_blocksize = 256;
  float offset = 0.0f;                    // the mean absmax subtracted before quantising

  int64_t numel() const;
  int64_t blocks() const { return (numel() + blocksize - 1) / blocksize; }
  // The per-block float32 scales, decoding the nested quantisation when present.
  at::Tensor block_scales() const;
  // Bytes held by the codes and scale state (what the format costs per weight).
  int64_t storage_bytes() const;
};

// `w`: float32, bfloat16 or float16, any shape. Throws axl::Error for a bad blocksize/dtype.
Quantized4bit quantize_4bit(const at::Tensor& w, Quant4Type type, int64_t blocksize = 64,
                            bool double_quant = false);
// The dequantised weight in `dtype`, shaped like the original.
at::Tensor dequantize_4bit(const Quantized4bit& q, at::ScalarType dtype = at::kFloat);
// The same into an existing tensor of the right numel (reused across calls); float32 scales
// multiply in float32 as bitsandbytes does, then round once to out's dtype. On the CPU a
// single pass over the packed bytes (a 16-entry table per block) into a contiguous out;
// elsewhere, and for other layouts, the ATen reference below.
void dequantize_4bit_into(const Quantized4bit& q, at::Tensor& out);
// The plain-ATen reference (unpacked codes, a table lookup, a product): the CPU loop must
// equal it bit for bit (tests/quant).
void dequantize_4bit_reference_into(const Quantized4bit& q, at::Tensor& out);

// Moves every tensor of the state to `device` (the forward dequantises where the input lives).
void move_to(Quantized4bit& q, at::Device device);

// Checks a loaded state for consistency (sizes of packed/absmax/nested against shape and
// blocksize); `what` names the tensor in the error.
void validate_quantized_4bit(const Quantized4bit& q, const std::string& what);

}  // namespace axl::quant
