#pragma once
// The LM head and the cross-entropy in one pass over row chunks ("loss from hidden states").
// The plain way materialises float32 logits [N, V], their log-softmax and their gradient at
// once (three N x V buffers: 400 MB for 1024 tokens of a 32k vocabulary). Here each chunk of
// rows makes its logits, its loss and its gradient, turns the gradient into the hidden states'
// (and the weight's) gradient right away and drops the logits, so only one chunk of logits
// ever exists. Backward then only scales the stored gradients by the incoming one.
#include <ATen/ATen.h>

#include <cstdint>

namespace axl::kernels {

// sum over rows n with targets[n] != ignore_index of
//   logsumexp(logits[n]) - logits[n, targets[n]],   logits = hidden @ weight^T in float32,
// as at::cross_entropy_loss(linear(hidden, weight).float(), targets, Sum, ignore_index).
// hidden [N, H] and weight [V, H] in float32 or bfloat16 (the GEMMs run in that dtype, as
// the plain path's do; float64 too, with float64 logits); targets [N] int64. Ignored rows add
// nothing and are left out of the head's GEMMs (callers divide by the trained-token count:
// train/token_loss.h). A target outside [0, V) is an error. A 0-dim float32
// (float64) tensor with autograd to hidden
// and weight. chunk_rows <= 0 picks about 16M logits per chunk (64 MB in float32: fewer chunks
// mean fewer repacks of the head weight by the GEMM, 5% of a step at 32k vocab).
at::Tensor linear_cross_entropy_sum(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    int64_t ignore_index = -100, int64_t chunk_rows = 0);

// The plain-ATen reference: full logits, then cross_entropy with a summed reduction.
at::Tensor linear_cross_entropy_sum_reference(const at::Tensor& hidden, const at::Tensor& weight,
                                              const at::Tensor& targets, int64_t ignore_index = -100);

// Whether linear_cross_entropy_sum handles this dtype (float16 does not: its unscaled
// gradients would underflow, so it keeps the plain path).
bool linear_cross_entropy_supports(at::ScalarType dtype);

}  // namespace axl::kernels
