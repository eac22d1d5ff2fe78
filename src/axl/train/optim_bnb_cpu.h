#pragma once
// The 8-bit Adam / Lion step of optim_bnb.cpp in plain loops over the state blocks on CPU
// (Lion in one pass; Adam in two, around ATen's sqrt). The ATen version walks the whole
// tensor a dozen times (dequantise, each update op, quantise) and was 3x slower than
// bitsandbytes' own CPU step.
// The arithmetic is the ATen version's, op for op in float32: the multiply-adds ATen's
// vectorised kernels fuse are std::fma here, and the square root is ATen's own, so the bytes
// are the same (the bitsandbytes parity test checks the first step bit for bit). Each value
// is computed by the same code whatever the thread count, so runs stay bit-reproducible.
#include <ATen/ATen.h>

#include "axl/train/optim_bnb.h"
#include "axl/train/optim_8bit_state.h"

namespace axl::train {

// True when the fused loop can run: everything on CPU, contiguous, float32 parameter.
bool can_fuse_8bit_step_cpu(const at::Tensor& grad, const at::Tensor& p32, const BlockwiseState& q1);

// One step on p32 (float32, updated in place) and the blockwise states (q2 unused for Lion).
void fused_8bit_step_cpu(BnbAlgorithm algo, const BnbHyper& h, int64_t step, const at::Tensor& grad,
                         const at::Tensor& p32, BlockwiseState& q1, BlockwiseState& q2);

}  // namespace axl::train
