#include "axl/kernels/lora_mlp_function.h"

#include <torch/csrc/autograd/custom_function.h>

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

enum Part { kGate = 0, kUp = 1, kDown = 2 };

struct MlpSpec : torch::CustomClassHolder {
  std::vector<LowRankLinear> parts;  // gate, up, down
  std::vector<at::Tensor> noise;     // per part; undefined without dropout
  bool need_dx = false;
};

// silu(e) * g, in e's dtype as at::silu(e) * g computes it.
at::Tensor swiglu(const at::Tensor& e, const at::Tensor& g) { return at::silu(e) * g; }

class LoraSwigluMlp : public torch::autograd::Function<LoraSwigluMlp> {
 public:
  // `loras` holds A, B of every part that has an update (gate, up, down order).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList loras,
                            c10::intrusive_ptr<MlpSpec> spec) {
    const variable_list ab = per_part(spec->parts, variable_list(loras.begin(), loras.end()));
    const at::Tensor x2d = x.reshape({-1, x.size(-1)});
    const auto& p = spec->parts;
    at::Tensor e = lora_math::forward(x2d, p[kGate].weight(), p[kGate].bias, ab[0], ab[1], p[kGate].scaling,
                                      spec->noise[kGate]);
    at::Tensor g = lora_math::forward(x2d, p[kUp].weight(), p[kUp].bias, ab[2], ab[3], p[kUp].scaling,
                                      spec->noise[kUp]);
    const at::Tensor y = lora_math::forward(swiglu(e, g), p[kDown].weight(), p[kDown].bias, ab[4], ab[5],
                                            p[kDown].scaling, spec->noise[kDown]);
    variable_list saved{x, e, g};
    saved.insert(saved.end(), loras.begin(), loras.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["spec"] = c10::IValue::make_capsule(std::move(spec));
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = y.size(1);
    return at::_unsafe_view(y, shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto holder = ctx->saved_data["spec"].toCapsule();
    const auto* spec = static_cast<MlpSpec*>(holder.get());
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &e = saved[1], &g = saved[2];
    const variable_list ab = per_part(spec->parts, variable_list(saved.begin() + 3, saved.end()));
    const auto& p = spec->parts;
    const at::Tensor x2d = x.reshape({-1, x.size(-1)});
    const at::Tensor dy = grad_outputs[0].reshape({-1, grad_outputs[0].size(-1)});

    // h is recomputed, not saved: one [N, intermediate] tensor less per layer.
    at::Tensor dh;
    auto [da_down, db_down] = lora_math::backward(dy, swiglu(e, g), p[kDown].weight(), ab[4], ab[5], p[kDown].scaling,
                                                  spec->noise[kDown], /*need_dx=*/true, dh);
    // d silu(e) / de = s (1 + e (1 - s)), s = sigmoid(e); in float32 for half-precision e.
    const at::ScalarType wide = e.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    const at::Tensor ef = e.to(wide), gf = g.to(wide), dhf = dh.to(wide);
    const at::Tensor sig = at::sigmoid(ef);
    const at::Tensor dg = (dhf * ef * sig).to(e.scalar_type());
    const at::Tensor de = (dhf * gf * sig * (1 + ef * (1 - sig))).to(e.scalar_type());

    at::Tensor dx;
    auto [da_gate, db_gate] = lora_math::backward(de, x2d, p[kGate].weight(), ab[0], ab[1], p[kGate].scaling,
                                                  spec->noise[kGate], spec->need_dx, dx);
    auto [da_up, db_up] = lora_math::backward(dg, x2d, p[kUp].weight(), ab[2], ab[3], p[kUp].scaling,
                                              spec->noise[kUp], spec->need_dx, dx);
    variable_list grads{dx.defined() ? dx.view(x.sizes()) : at::Tensor()};
    const std::pair<at::Tensor, at::Tensor> per[] = {{da_gate, db_gate}, {da_up, db_up}, {da_down, db_down}};
    for (int i = 0; i < 3; ++i)
      if (p[i].has_update()) grads.insert(grads.end(), {per[i].first, per[i].second});
    grads.emplace_back();  // spec
    return grads;
  }

 private:
  // {A_gate, B_gate, A_up, B_up, A_down, B_down}, undefined for a part without an update.
  static variable_list per_part(const std::vector<LowRankLinear>& parts, const variable_list& flat) {
    variable_list out(6);
    size_t next = 0;
    for (size_t i = 0; i < 3; ++i)
      if (parts[i].has_update()) out[2 * i] = flat[next], out[2 * i + 1] = flat[next + 1], next += 2;
    return out;
  }
};

}  // namespace

at::Tensor lora_swiglu_mlp(const at::Tensor& x, const LowRankLinear& gate, const LowRankLinear& up,
                           const LowRankLinear& down) {
  const lora_math::CastInputs c = lora_math::cast_for_autocast(x, {gate, up, down});
  auto spec = c10::make_intrusive<MlpSpec>();
  spec->parts = c.projections;
  const LowRankLinear* originals[] = {&gate, &up, &down};
  variable_list loras;
  for (int i = 0; i < 3; ++i) {
    const LowRankLinear& o = *originals[i];
    if (!o.has_update()) {
      spec->noise.emplace_back();
      continue;
    }
    // The update's input: x for gate and up, h [..., intermediate] for down.
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = o.lora_a.size(1);
    spec->noise.push_back(lora_dropout_noise(shape, o.dropout, o.lora_a.scalar_type(), x.device()));
    loras.insert(loras.end(), {spec->parts[i].lora_a, spec->parts[i].lora_b});
  }
  spec->need_dx = c.x.requires_grad();
  return LoraSwigluMlp::apply(c.x, at::TensorList(loras), std::move(spec));
}

at::Tensor lora_swiglu_mlp_reference(const at::Tensor& x, const LowRankLinear& gate, const LowRankLinear& up,
                                     const LowRankLinear& down) {
  const auto gu = lora_linear_group_reference(x, {gate, up});
  return lora_linear_group_reference(swiglu(gu[0], gu[1]), {down})[0];
}

}  // namespace axl::kernels
