#include "axl/kernels/lora_linear_function.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides the saved tensors; travels in the autograd context.
struct GroupSpec : torch::CustomClassHolder {
  std::vector<LowRankLinear> projections;
  std::vector<at::Tensor> noise;  // per projection; undefined without dropout
  bool need_dx = false;
};

// The update's A, B as the matching tensors of a flattened list (only projections with one).
std::pair<at::Tensor, at::Tensor> update_of(const std::vector<LowRankLinear>& ps, const variable_list& loras,
                                            size_t index) {
  size_t next = 0;
  for (size_t i = 0; i < index; ++i)
    if (ps[i].has_update()) next += 2;
  if (!ps[index].has_update()) return {};
  return {loras[next], loras[next + 1]};
}

class LoraLinearGroup : public torch::autograd::Function<LoraLinearGroup> {
 public:
  // `loras` lists A and B of every projection that has an update, so autograd routes their
  // gradients; `spec` holds the frozen rest.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList loras,
                               c10::intrusive_ptr<GroupSpec> spec) {
    const at::Tensor x2d = x.reshape({-1, x.size(-1)});
    const variable_list ab(loras.begin(), loras.end());
    variable_list out;
    for (size_t i = 0; i < spec->projections.size(); ++i) {
      const LowRankLinear& p = spec->projections[i];
      const auto [a, b] = update_of(spec->projections, ab, i);
      const at::Tensor y = lora_math::forward(x2d, p.weight(), p.bias, a, b, p.scaling, spec->noise[i]);
      std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
      shape.back() = y.size(1);
      // Not a view (so in-place RoPE may rotate it): _unsafe_view keeps autograd unaware.
      out.push_back(at::_unsafe_view(y, shape));
    }
    variable_list saved{x};
    saved.insert(saved.end(), ab.begin(), ab.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["spec"] = c10::IValue::make_capsule(std::move(spec));
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto holder = ctx->saved_data["spec"].toCapsule();
    const auto* spec = static_cast<GroupSpec*>(holder.get());
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const variable_list ab(saved.begin() + 1, saved.end());
    const at::Tensor x2d = x.reshape({-1, x.size(-1)});
    at::Tensor dx;
    variable_list lora_grads;
    for (size_t i = 0; i < spec->projections.size(); ++i) {
      const LowRankLinear& p = spec->projections[i];
      const auto [a, b] = update_of(spec->projections, ab, i);
      at::Tensor dy = grad_outputs[i];
      if (!dy.defined()) {
        if (p.has_update()) lora_grads.insert(lora_grads.end(), {at::zeros_like(a), at::zeros_like(b)});
        continue;
      }
      dy = dy.reshape({-1, dy.size(-1)});
      auto [da, db] = lora_math::backward(dy, x2d, p.weight(), a, b, p.scaling, spec->noise[i], spec->need_dx, dx);
      if (p.has_update()) lora_grads.insert(lora_grads.end(), {da, db});
    }
    variable_list grads{dx.defined() ? dx.view(x.sizes()) : at::Tensor()};
    grads.insert(grads.end(), lora_grads.begin(), lora_grads.end());
    grads.emplace_back();  // spec
    return grads;
  }
};

}  // namespace

namespace lora_math {

at::ScalarType compute_dtype(const at::Tensor& x) {
  const at::DeviceType dev = x.device().type();
  if (at::autocast::is_autocast_enabled(dev) && at::isFloatingType(x.scalar_type()) && x.scalar_type() != at::kDouble)
    return at::autocast::get_autocast_dtype(dev);
  return x.scalar_type();
}

CastInputs cast_for_autocast(const at::Tensor& x, const std::vector<LowRankLinear>& ps) {
  const at::ScalarType dt = compute_dtype(x);
  CastInputs c{x.to(dt), ps};
  if (!at::autocast::is_autocast_enabled(x.device().type()) || dt == at::kDouble) return c;
  for (LowRankLinear& p : c.projections) {
    auto weight = p.weight;
    p.weight = [weight, dt] { return weight().to(dt); };
    if (p.bias.defined()) p.bias = p.bias.to(dt);
    if (p.has_update()) p.lora_a = p.lora_a.to(dt), p.lora_b = p.lora_b.to(dt);
  }
  return c;
}

at::Tensor forward(const at::Tensor& x2d, const at::Tensor& weight_in, const at::Tensor& bias, const at::Tensor& a,
                   const at::Tensor& b, double scaling, const at::Tensor& noise) {
  const at::Tensor weight = weight_in.to(x2d.scalar_type());
  at::Tensor y = bias.defined() ? at::addmm(bias.to(x2d.scalar_type()), x2d, weight.t()) : at::mm(x2d, weight.t());
  if (!a.defined()) return y;
  // The update runs in A's dtype (float32 adapters on a half-precision base), as LoraLayer.
  at::Tensor xa = x2d.to(a.scalar_type());
  if (noise.defined()) xa = xa * noise.reshape({-1, xa.size(1)}).to(xa.scalar_type());
  const at::Tensor down = at::mm(xa, a.t());
  if (a.scalar_type() == y.scalar_type()) return y.addmm_(down, b.t(), 1, scaling);
  return at::addmm(y.to(b.scalar_type()), down, b.t(), 1, scaling).to(y.scalar_type());
}

std::pair<at::Tensor, at::Tensor> backward(const at::Tensor& dy, const at::Tensor& x2d, const at::Tensor& weight_in,
                                           const at::Tensor& a, const at::Tensor& b, double scaling,
                                           const at::Tensor& noise, bool need_dx, at::Tensor& dx) {
  if (need_dx) {
    // The base's [out, in] weight only enters dx = dY W; its own gradient is never formed.
    const at::Tensor weight = weight_in.to(dy.scalar_type());
    if (dx.defined()) dx.addmm_(dy, weight);
    else dx = at::mm(dy, weight);
  }
  if (!a.defined()) return {};
  const at::ScalarType adt = a.scalar_type();
  const at::Tensor dy_a = dy.to(adt);
  const at::Tensor noise2d = noise.defined() ? noise.reshape({-1, x2d.size(1)}).to(adt) : at::Tensor();
  at::Tensor xa = x2d.to(adt);
  if (noise2d.defined()) xa = xa * noise2d;
  const at::Tensor dy_b = at::mm(dy_a, b);                    // [N, r]
  at::Tensor da = at::mm(dy_b.t(), xa).mul_(scaling);         // [r, in]
  at::Tensor db = at::mm(dy_a.t(), at::mm(xa, a.t())).mul_(scaling);  // [out, r]
  if (need_dx) {
    at::Tensor dxa = at::mm(dy_b, a);  // [N, in], through the update's rank-r bottleneck
    if (noise2d.defined()) dxa.mul_(noise2d);
    if (dxa.scalar_type() == dx.scalar_type()) dx.add_(dxa, scaling);
    else dx.add_(dxa.mul_(scaling).to(dx.scalar_type()));
  }
  return {da, db};
}

}  // namespace lora_math

at::Tensor lora_dropout_noise(at::IntArrayRef shape, double p, at::ScalarType dtype, at::Device device) {
  if (p <= 0) return {};
  at::NoGradGuard no_grad;
  // at::dropout(input) draws its mask from the shape, dtype and device alone: on ones it
  // returns the multipliers themselves.
  return at::dropout(at::ones(shape, at::TensorOptions().dtype(dtype).device(device)), p, /*train=*/true);
}

std::vector<at::Tensor> lora_linear_group(const at::Tensor& x, const std::vector<LowRankLinear>& projections) {
  if (projections.empty()) throw std::invalid_argument("lora_linear_group: no projections");
  const lora_math::CastInputs c = lora_math::cast_for_autocast(x, projections);
  auto spec = c10::make_intrusive<GroupSpec>();
  variable_list loras;
  for (size_t i = 0; i < projections.size(); ++i) {
    const LowRankLinear& p = c.projections[i];
    // The multipliers are drawn in the adapter's own dtype, as LoraLayer's dropout is.
    spec->noise.push_back(p.has_update() ? lora_dropout_noise(x.sizes(), p.dropout, projections[i].lora_a.scalar_type(),
                                                              x.device())
                                         : at::Tensor());
    if (p.has_update()) loras.insert(loras.end(), {p.lora_a, p.lora_b});
  }
  spec->projections = c.projections;
  spec->need_dx = c.x.requires_grad();
  return LoraLinearGroup::apply(c.x, at::TensorList(loras), std::move(spec));
}

std::vector<at::Tensor> lora_linear_group_reference(const at::Tensor& x, const std::vector<LowRankLinear>& projections) {
  std::vector<at::Tensor> out;
  for (const LowRankLinear& p : projections) {
    at::Tensor y = at::linear(x, p.weight());
    if (p.bias.defined()) y = y + p.bias;
    if (p.has_update()) {
      at::Tensor xa = x.to(p.lora_a.scalar_type());
      if (p.dropout > 0) xa = at::dropout(xa, p.dropout, /*train=*/true);
      y = (y.to(p.lora_b.scalar_type()) + at::linear(at::linear(xa, p.lora_a), p.lora_b) * p.scaling).to(y.scalar_type());
    }
    out.push_back(y);
  }
  return out;
}

}  // namespace axl::kernels
