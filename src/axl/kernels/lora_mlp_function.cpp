#include "axl/kernels/lora_mlp_function.h"

#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>

#include "axl/kernels/swiglu_cuda.h"

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct MlpSpec : torch::CustomClassHolder {
  std::vector<LowRankLinear> parts;  // gate, up, down; or gate_up, down
  std::vector<at::Tensor> noise;     // per part; undefined without dropout
  GatedActivation act = GatedActivation::Silu;
  bool need_dx = false;
  bool merged() const { return parts.size() == 2; }
};

const char* gelu_approximation(GatedActivation act) { return act == GatedActivation::GeluTanh ? "tanh" : "none"; }

// act(e) * g in e's dtype, as the plain path computes it (the SwiGLU kernel when it runs).
at::Tensor gated(const at::Tensor& e, const at::Tensor& g, GatedActivation act) {
  if (act == GatedActivation::Silu) return cuda::swiglu_forward(e, g);
  return apply_activation(e, act) * g;
}

// h = act(e) * g recomputed for the backward, keeping act(e) (`a`) for dg = dh * a. The
// SwiGLU kernel, when it runs, makes h in one pass and leaves `a` undefined.
at::Tensor recompute_h(const at::Tensor& e, const at::Tensor& g, GatedActivation act, at::Tensor& a) {
  if (act == GatedActivation::Silu && cuda::swiglu_uses_kernel(e, g)) return cuda::swiglu_forward(e, g);
  a = apply_activation(e, act);
  return a * g;
}

// {de, dg} for dh = d loss / d h. ATen's own SiLU/GELU backward: the op autograd runs on the
// plain path, in one pass over the elements (not a chain of temporaries).
std::pair<at::Tensor, at::Tensor> gated_backward(const at::Tensor& dh, const at::Tensor& e, const at::Tensor& g,
                                                 const at::Tensor& a, GatedActivation act) {
  if (!a.defined() && dh.is_contiguous() && dh.scalar_type() == e.scalar_type())
    return cuda::swiglu_backward(dh, e, g);  // the kernel path of recompute_h
  const at::Tensor act_e = a.defined() ? a : apply_activation(e, act);
  const at::Tensor dg = dh * act_e;
  if (act == GatedActivation::Silu) return {at::silu_backward(dh * g, e), dg};
  return {at::gelu_backward(dh * g, e, gelu_approximation(act)), dg};
}

class LoraGatedMlp : public torch::autograd::Function<LoraGatedMlp> {
 public:
  // `loras` holds A, B of every part that has an update (in parts order).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList loras,
                            c10::intrusive_ptr<MlpSpec> spec) {
    const variable_list ab = per_part(spec->parts, variable_list(loras.begin(), loras.end()));
    const at::Tensor x2d = x.reshape({-1, x.size(-1)});
    const auto& p = spec->parts;
    auto project = [&](size_t i, const at::Tensor& in) {
      return lora_math::forward(in, p[i].weight(), p[i].bias, ab[2 * i], ab[2 * i + 1], p[i].scaling, spec->noise[i]);
    };
    at::Tensor e, g;
    if (spec->merged()) {
      const at::Tensor eg = project(0, x2d);
      const int64_t n = eg.size(1) / 2;
      e = eg.narrow(1, 0, n), g = eg.narrow(1, n, n);
    } else {
      e = project(0, x2d), g = project(1, x2d);
    }
    const size_t down = p.size() - 1;
    const at::Tensor y = project(down, gated(e, g, spec->act));
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
    std::vector<std::pair<at::Tensor, at::Tensor>> per(p.size());
    auto project_back = [&](size_t i, const at::Tensor& d_out, const at::Tensor& in, bool need_d_in, at::Tensor& d_in) {
      per[i] = lora_math::backward(d_out, in, p[i].weight(), ab[2 * i], ab[2 * i + 1], p[i].scaling, spec->noise[i],
                                   need_d_in, d_in);
    };

    // h is recomputed, not saved: one [N, intermediate] tensor less per layer.
    at::Tensor dh, dx, a;
    project_back(p.size() - 1, dy, recompute_h(e, g, spec->act, a), /*need_d_in=*/true, dh);
    const auto [de, dg] = gated_backward(dh, e, g, a, spec->act);
    a = at::Tensor();
    if (spec->merged()) {
      project_back(0, at::cat({de, dg}, 1), x2d, spec->need_dx, dx);
    } else {
      project_back(0, de, x2d, spec->need_dx, dx);
      project_back(1, dg, x2d, spec->need_dx, dx);
    }
    variable_list grads{dx.defined() ? dx.view(x.sizes()) : at::Tensor()};
    for (size_t i = 0; i < p.size(); ++i)
      if (p[i].has_update()) grads.insert(grads.end(), {per[i].first, per[i].second});
    grads.emplace_back();  // spec
    return grads;
  }

 private:
  // {A_0, B_0, A_1, B_1, ...} per part, undefined for a part without an update.
  static variable_list per_part(const std::vector<LowRankLinear>& parts, const variable_list& flat) {
    variable_list out(2 * parts.size());
    size_t next = 0;
    for (size_t i = 0; i < parts.size(); ++i)
      if (parts[i].has_update()) out[2 * i] = flat[next], out[2 * i + 1] = flat[next + 1], next += 2;
    return out;
  }
};

void check_parts(const std::vector<LowRankLinear>& gate_up) {
  if (gate_up.size() != 1 && gate_up.size() != 2)
    throw std::invalid_argument("lora_gated_mlp: gate_up is {gate, up} or {merged gate_up}");
}

}  // namespace

at::Tensor apply_activation(const at::Tensor& e, GatedActivation act) {
  return act == GatedActivation::Silu ? at::silu(e) : at::gelu(e, gelu_approximation(act));
}

std::optional<GatedActivation> gated_activation(const std::string& hidden_act) {
  if (hidden_act == "silu") return GatedActivation::Silu;
  if (hidden_act == "gelu_pytorch_tanh" || hidden_act == "gelu_new" || hidden_act == "gelu_fast")
    return GatedActivation::GeluTanh;
  if (hidden_act == "gelu") return GatedActivation::Gelu;
  return std::nullopt;
}

at::Tensor lora_gated_mlp(const at::Tensor& x, const std::vector<LowRankLinear>& gate_up, const LowRankLinear& down,
                          GatedActivation act) {
  check_parts(gate_up);
  std::vector<LowRankLinear> originals = gate_up;
  originals.push_back(down);
  const lora_math::CastInputs c = lora_math::cast_for_autocast(x, originals);
  auto spec = c10::make_intrusive<MlpSpec>();
  spec->parts = c.projections;
  spec->act = act;
  variable_list loras;
  for (size_t i = 0; i < originals.size(); ++i) {
    const LowRankLinear& o = originals[i];
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
  return LoraGatedMlp::apply(c.x, at::TensorList(loras), std::move(spec));
}

at::Tensor lora_gated_mlp_reference(const at::Tensor& x, const std::vector<LowRankLinear>& gate_up,
                                    const LowRankLinear& down, GatedActivation act) {
  check_parts(gate_up);
  const auto outs = lora_linear_group_reference(x, gate_up);
  at::Tensor e = outs[0], g;
  if (gate_up.size() == 1) {
    const int64_t n = e.size(-1) / 2;
    g = e.narrow(-1, n, n), e = e.narrow(-1, 0, n);
  } else {
    g = outs[1];
  }
  return lora_linear_group_reference(apply_activation(e, act) * g, {down})[0];
}

}  // namespace axl::kernels
