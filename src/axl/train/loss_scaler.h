#pragma once
// fp16 dynamic loss scaling with torch.amp.GradScaler's semantics (libtorch's C++ API has no
// GradScaler): the loss is multiplied by `scale` before backward; gradients are unscaled in
// place and checked for inf/NaN; a step with non-finite gradients is skipped and the scale
// backs off (x0.5); after `growth_interval` good steps in a row it grows (x2). Uses the same
// ATen kernels GradScaler calls (_amp_foreach_non_finite_check_and_unscale_,
// _amp_update_scale_), so the scale sequence matches Python's.
#include <ATen/ATen.h>

#include <vector>

namespace axl::train {

struct LossScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions opts = {}, at::Device device = at::Device(at::kCPU));

  at::Tensor scale_loss(const at::Tensor& loss) const;
  // Divides the gradients by the scale (once per step, before clipping); returns true when
  // any gradient is inf/NaN: the caller skips the optimizer step.
  bool unscale(const std::vector<at::Tensor>& params);
  // After every step (skipped or not), with what unscale() found.
  void update(bool found_inf);

  double scale() const { return scale_.item<double>(); }
  int64_t growth_tracker() const { return growth_tracker_.item<int64_t>(); }
  // Restore from a checkpoint.
  void set_state(double scale, int64_t growth_tracker);

 private:
  LossScalerOptions opts_;
  at::Tensor scale_;           // float32 [1]
  at::Tensor growth_tracker_;  // int32 [1]
  at::Tensor found_inf_;       // float32 [1]
};

}  // namespace axl::train
