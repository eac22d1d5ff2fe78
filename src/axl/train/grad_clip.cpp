#include "axl/train/grad_clip.h"

namespace axl::train {

namespace {

std::vector<at::Tensor> defined_grads(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

}  // namespace

at::Tensor total_grad_norm(const std::vector<at::Tensor>& params) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads = defined_grads(params);
  if (grads.empty()) return at::zeros({});
  // Per-tensor norms, then the norm of the norms (torch computes it the same way); the norms
  // are moved to the first gradient's device before stacking.
  std::vector<at::Tensor> norms;
  const at::Device device = grads.front().device();
  for (const auto& g : grads) norms.push_back(at::linalg_vector_norm(g, 2).to(device));
  return at::linalg_vector_norm(at::stack(norms), 2);
}

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  at::Tensor norm = total_grad_norm(params);
  if (max_norm <= 0) return norm;
  at::Tensor coef = (max_norm / (norm + 1e-6)).clamp_max(1.0);
  for (auto& g : defined_grads(params)) g.mul_(coef.to(g.device()));
  return norm;
}

}  // namespace axl::train
