#pragma once
// LoftQ initialisation (PEFT's init_lora_weights="loftq", peft/utils/loftq_utils.py): find a
// quantized Q and a rank-r product B A with W ~ Q + B A by alternating, loftq_iter times,
// "quantise W - B A, dequantise to Q" and "B A = the rank-r SVD of W - Q". The quantiser is
// the one PEFT uses when bitsandbytes is installed: NF4 blocks of 64 without double
// quantisation (4 bits) or LLM.int8 rows (8 bits), our bitsandbytes-exact codecs. As in PEFT,
// B = U sqrt(S) and A = sqrt(S) V^T, and the LoRA scaling is NOT divided out: the start
// reproduces W only when lora_alpha / r (the scaling) is 1.
#include <ATen/ATen.h>

#include <cstdint>

#include "axl/models/linear_slot.h"

namespace axl::quant {

struct LoftqOptions {
  int bits = 4;         // loftq_bits: 4 (NF4) or 8 (LLM.int8)
  int64_t rank = 8;     // the LoRA rank of this layer
  int iterations = 1;   // loftq_iter
};

struct LoftqResult {
  at::Tensor dequantized;  // Q, the new base weight [out, in], in the input's dtype and device
  at::Tensor lora_a;       // A [rank, in], float32
  at::Tensor lora_b;       // B [out, rank], float32
};

// Throws axl::Error for bits other than 4/8, iterations < 1, rank < 1 or a non-2-D weight.
// A rank above min(out, in) keeps the extra rows of A and columns of B at zero (PEFT would
// return smaller factors than the layer holds).
LoftqResult loftq_init(const at::Tensor& weight, const LoftqOptions& options);

// Runs loftq_init on the slot's base weight and makes Q its base: a dense base gets Q in its
// dtype; a quantized base (4-bit or 8-bit) is re-quantized from Q with its own settings.
// Returns the factors for the slot's LoRA layer.
LoftqResult apply_loftq(models::LinearSlot& slot, const LoftqOptions& options);

}  // namespace axl::quant
