#include "axl/kernels/cross_entropy_cuda.h"

#include "axl/kernels/cuda/launchers.h"
#include "axl/kernels/cuda_launch.h"
#include "axl/kernels/cuda_switch.h"

#include <stdexcept>
#include <string>

namespace axl::kernels::cuda {

bool cross_entropy_uses_kernel(const at::Tensor& logits, const at::Tensor& targets) {
  if (!enabled(Kernel::CrossEntropy) || !logits.is_cuda() || launcher_dtype(logits.scalar_type()) < 0) return false;
  return logits.dim() == 2 && logits.stride(1) == 1 && logits.stride(0) >= logits.size(1) &&
         targets.device() == logits.device() && targets.scalar_type() == at::kLong && targets.dim() == 1 &&
         targets.is_contiguous() && targets.size(0) == logits.size(0);
}

CrossEntropyForward cross_entropy_forward_reference(const at::Tensor& logits, const at::Tensor& targets,
                                                    int64_t ignore_index) {
  at::Tensor f = logits.to(at::kFloat);
  return {at::cross_entropy_loss(f, targets, {}, at::Reduction::Sum, ignore_index), at::logsumexp(f, -1)};
}

at::Tensor cross_entropy_backward_reference(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                            const at::Tensor& grad_output, int64_t ignore_index) {
  at::Tensor p = at::exp(logits.to(at::kFloat) - lse.unsqueeze(1));
  at::Tensor keep = targets.ne(ignore_index);
  at::Tensor safe = targets.masked_fill(keep.logical_not(), 0);
  p.scatter_add_(1, safe.unsqueeze(1), at::full({logits.size(0), 1}, -1.0f, p.options()));
  return (p * keep.unsqueeze(1).to(at::kFloat) * grad_output.to(at::kFloat)).to(logits.scalar_type());
}

void check_targets_in_vocab(const at::Tensor& targets, int64_t vocab, int64_t ignore_index) {
  const at::Tensor bad = targets.ne(ignore_index).logical_and(targets.lt(0).logical_or(targets.ge(vocab)));
  if (!bad.any().item<bool>()) return;
  const int64_t row = bad.to(at::kInt).argmax().item<int64_t>();
  throw std::invalid_argument("cross-entropy: target " + std::to_string(targets[row].item<int64_t>()) + " at row " +
                              std::to_string(row) + " is outside the vocabulary of " + std::to_string(vocab) +
                              " (token ids beyond the model's embedding size?)");
}

CrossEntropyForward cross_entropy_forward(const at::Tensor& logits, const at::Tensor& targets, int64_t ignore_index,
                                          bool check_targets) {
  if (!cross_entropy_uses_kernel(logits, targets)) return cross_entropy_forward_reference(logits, targets, ignore_index);
  if (check_targets) check_targets_in_vocab(targets, logits.size(1), ignore_index);
  const int64_t rows = logits.size(0);
  at::Tensor loss = at::empty({rows}, logits.options().dtype(at::kFloat));
  at::Tensor lse = at::empty({rows}, logits.options().dtype(at::kFloat));
  check_launch(axl_cuda_cross_entropy_forward(launcher_dtype(logits.scalar_type()), logits.data_ptr(),
                                              logits.stride(0), targets.data_ptr<int64_t>(), loss.data_ptr<float>(),
                                              lse.data_ptr<float>(), rows, logits.size(1), ignore_index,
                                              current_stream(logits.device())),
               "cross_entropy_forward");
  return {loss.sum(), lse};
}

at::Tensor cross_entropy_backward(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse,
                                  const at::Tensor& grad_output, int64_t ignore_index, bool in_place) {
  const bool lse_ok = lse.is_cuda() && lse.scalar_type() == at::kFloat && lse.is_contiguous() &&
                      lse.numel() == logits.size(0);
  if (!lse_ok || !cross_entropy_uses_kernel(logits, targets))
    return cross_entropy_backward_reference(logits, targets, lse, grad_output, ignore_index);
  at::Tensor scale = grad_output.to(logits.device(), at::kFloat).reshape({1}).contiguous();
  const bool over_logits = in_place && logits.is_contiguous();
  at::Tensor grad = over_logits ? logits : at::empty(logits.sizes(), logits.options());
  check_launch(axl_cuda_cross_entropy_backward(launcher_dtype(logits.scalar_type()), logits.data_ptr(),
                                               logits.stride(0), targets.data_ptr<int64_t>(), lse.data_ptr<float>(),
                                               scale.data_ptr<float>(), grad.data_ptr(), logits.size(0),
                                               logits.size(1), ignore_index, current_stream(logits.device())),
               "cross_entropy_backward");
  return grad;
}

}  // namespace axl::kernels::cuda
