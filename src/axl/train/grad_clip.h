#pragma once
// Gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the L2 norm over all
// gradients together; every gradient is multiplied by min(1, max_norm / (norm + 1e-6)); the
// PRE-clip norm is returned (what Hugging Face logs as grad_norm).
#include <ATen/ATen.h>

#include <vector>

namespace axl::train {

// The total L2 norm of the defined gradients of `params` (0 when there are none), as a
// 0-dim float tensor on the gradients' device (no host sync).
at::Tensor total_grad_norm(const std::vector<at::Tensor>& params);

// Clips in place when max_norm > 0 and returns the pre-clip total norm. A non-finite norm
// leaves the gradients non-finite (the caller decides: skip the step or raise).
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace axl::train
