#include "axl/train/loss_scaler.h"

#include <map>

namespace axl::train {

LossScaler::LossScaler(LossScalerOptions opts, at::Device device) : opts_(opts) {
  auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  scale_ = at::full({1}, opts_.init_scale, f32);
  growth_tracker_ = at::zeros({1}, at::TensorOptions().dtype(at::kInt).device(device));
  found_inf_ = at::zeros({1}, f32);
}

at::Tensor LossScaler::scale_loss(const at::Tensor& loss) const {
  return loss * scale_.to(loss.device());
}

bool LossScaler::unscale(const std::vector<at::Tensor>& params) {
  at::NoGradGuard no_grad;
  // GradScaler computes the inverse in double, then rounds it to float32.
  at::Tensor inv_scale = scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  found_inf_.zero_();
  // The kernel wants tensors of one device and dtype per call.
  std::map<std::pair<std::string, int>, std::vector<at::Tensor>> buckets;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad();
    buckets[{g.device().str(), static_cast<int>(g.scalar_type())}].push_back(g);
  }
  for (auto& [key, grads] : buckets) {
    const at::Device dev = grads.front().device();
    at::Tensor found = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(dev));
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found, inv_scale.to(dev));
    found_inf_ += found.to(found_inf_.device());
  }
  return found_inf_.item<double>() > 0;
}

void LossScaler::update(bool found_inf) {
  found_inf_.fill_(found_inf ? 1.0 : 0.0);
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, opts_.growth_factor,
                         opts_.backoff_factor, opts_.growth_interval);
}

void LossScaler::set_state(double scale, int64_t growth_tracker) {
  scale_.fill_(scale);
  growth_tracker_.fill_(growth_tracker);
}

}  // namespace axl::train
