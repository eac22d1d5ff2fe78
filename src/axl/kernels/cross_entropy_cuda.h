#pragma once
// Cross-entropy with a summed reduction over rows of logits, forward and backward, through the
// CUDA kernel (kernels/cuda/cross_entropy.cu: an online softmax over vocabulary chunks, no
// float32 copy of the logits) when switched on (cuda_switch.h) and the tensors suit it, else
// through ATen. Matches at::cross_entropy(logits.float(), targets, {}, Sum, ignore_index).
#include <ATen/ATen.h>

#include <cstdint>

namespace axl::kernels::cuda {

struct CrossEntropyForward {
  at::Tensor loss;  // 0-dim float32: the summed loss over rows whose target != ignore_index
  at::Tensor lse;   // float32 [rows]: log-sum-exp of each row (what the backward needs)
};

// logits [rows, vocab] (rows contiguous; a row stride is allowed), targets int64 [rows].
// check_targets: throw std::invalid_argument for a target outside [0, vocab) that is not
// ignore_index (one device sync; callers that checked all their targets once pass false).
CrossEntropyForward cross_entropy_forward(const at::Tensor& logits, const at::Tensor& targets,
                                          int64_t ignore_index = -100, bool check_targets = true);

// Throws std::invalid_argument naming the first target outside [0, vocab) that is not
// ignore_index (the kernel would give NaN for it, ATen a device-side assert).
void check_targets_in_vocab(const at::Tensor& targets, int64_t vocab, int64_t ignore_index);
// d loss / d logits, times grad_output (0-dim), in logits' dtype; `in_place` writes it over
// the logits (which must then not be needed any more) when the kernel runs.
at::Tensor cross_entropy_backward(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                  const at::Tensor& grad_output, int64_t ignore_index = -100, bool in_place = false);

bool cross_entropy_uses_kernel(const at::Tensor& logits, const at::Tensor& targets);

CrossEntropyForward cross_entropy_forward_reference(const at::Tensor& logits, const at::Tensor& targets,
                                                    int64_t ignore_index);
at::Tensor cross_entropy_backward_reference(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                            const at::Tensor& grad_output, int64_t ignore_index);

}  // namespace axl::kernels::cuda
