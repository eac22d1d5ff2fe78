#include "axl/train/optim_bnb.h"

#include <cmath>

#include "axl/train/optim_8bit_state.h"
#include "axl/train/optim_bnb_cpu.h"

namespace axl::train {

bool uses_8bit_state(const std::string& name, const at::Tensor& p) {
  const std::string embed = "embed_tokens.weight";
  const bool is_embedding = name.size() >= embed.size() && name.compare(name.size() - embed.size(), embed.size(), embed) == 0;
  return p.numel() >= kMin8bitStateSize && !is_embedding;
}

namespace {

bool has_second_state(BnbAlgorithm algo) { return algo == BnbAlgorithm::Adam; }

// Zero states (bitsandbytes' init_state); on the host for paged optimizers.
void init_states(BnbAlgorithm algo, bool use_8bit, bool paged, const at::Tensor& p, ParamState& s) {
  at::TensorOptions opts = p.options().dtype(at::kFloat);
  if (paged) opts = opts.device(at::kCPU);
  const at::Tensor like = at::empty(p.sizes(), opts);
  if (use_8bit) {
    BlockwiseState s1 = zero_blockwise_state(like);
    s.exp_avg_codes = s1.codes, s.exp_avg_absmax = s1.absmax;
    if (has_second_state(algo)) {
      BlockwiseState s2 = zero_blockwise_state(like);
      s.exp_avg_sq_codes = s2.codes, s.exp_avg_sq_absmax = s2.absmax;
    }
  } else {
    s.exp_avg = at::zeros_like(like);
    if (has_second_state(algo)) s.exp_avg_sq = at::zeros_like(like);
  }
  // Pinned host pages make the per-step copies to and from the GPU direct DMA transfers.
  if (paged && p.is_cuda())
    for (at::Tensor* t : {&s.exp_avg, &s.exp_avg_sq, &s.exp_avg_codes, &s.exp_avg_absmax, &s.exp_avg_sq_codes,
                          &s.exp_avg_sq_absmax})
      if (t->defined()) *t = t->pin_memory();
}

// bitsandbytes' _optimizer_update_32bit_cpu (adam / lion); states float32 on p's device.
void update_32bit(BnbAlgorithm algo, const BnbHyper& h, int64_t step, const at::Tensor& g32, const at::Tensor& p32,
                  at::Tensor& state1, at::Tensor& state2) {
  if (algo == BnbAlgorithm::Adam) {
    state1.mul_(h.beta1).add_(g32, 1.0 - h.beta1);
    state2.mul_(h.beta2).addcmul_(g32, g32, 1.0 - h.beta2);
    const double correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
    const double correction2 = std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(step)));
    const double step_size = -h.lr * correction2 / correction1;
    if (h.weight_decay > 0.0) p32.mul_(1.0 - h.lr * h.weight_decay);
    at::Tensor update = state1 / (state2.sqrt() + h.eps * correction2);
    p32.add_(update, step_size * 1.0);  // update_scale is 1 without max_unorm
  } else {
    if (h.weight_decay > 0.0) p32.mul_(1.0 - h.lr * h.weight_decay);
    at::Tensor update = state1.mul(h.beta1).add(g32, 1.0 - h.beta1);
    p32.add_(update.sign(), -h.lr);
    state1.mul_(h.beta2).add_(g32, 1.0 - h.beta2);
  }
}

// bitsandbytes' _optimizer_update_8bit_blockwise_cpu (adam / lion).
void update_8bit(BnbAlgorithm algo, const BnbHyper& h, int64_t step, const at::Tensor& g, const at::Tensor& p32,
                 ParamState& s) {
  const at::Device dev = p32.device();
  const at::Tensor map1 = dynamic_map(true, dev), map2 = dynamic_map(false, dev);
  BlockwiseState q1{s.exp_avg_codes, s.exp_avg_absmax}, q2{s.exp_avg_sq_codes, s.exp_avg_sq_absmax};
  if (can_fuse_8bit_step_cpu(g, p32, q1)) {
    fused_8bit_step_cpu(algo, h, step, g, p32, q1, q2);
    return;
  }
  at::Tensor state1 = dequantize_blockwise(q1, map1);
  at::Tensor state2 = has_second_state(algo) ? dequantize_blockwise(q2, map2) : at::Tensor();
  at::Tensor grad = g.to(at::kFloat) * 1.0;  // gnorm_scale
  if (algo == BnbAlgorithm::Adam) {
    state1.mul_(h.beta1).add_(grad, 1.0 - h.beta1);
    state2.mul_(h.beta2).addcmul_(grad, grad, 1.0 - h.beta2);
    const double correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
    const double correction2 = std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(step)));
    at::Tensor denom = (state2.sqrt() / correction2).add_(h.eps);
    if (h.weight_decay > 0.0) p32.mul_(1.0 - h.lr * h.weight_decay);
    p32.addcdiv_(state1, denom, -h.lr / correction1);
  } else {
    if (h.weight_decay > 0.0) p32.mul_(1.0 - h.lr * h.weight_decay);
    at::Tensor update_dir = at::sign(state1.mul(h.beta1) + grad.mul(1.0 - h.beta1));
    p32.add_(update_dir, -h.lr);
    state1.mul_(h.beta2).add_(grad, 1.0 - h.beta2);
  }
  quantize_blockwise_into(state1, map1, q1);
  if (has_second_state(algo)) quantize_blockwise_into(state2, map2, q2);
}

// Device copies of the host states for a paged step, and the copy back.
void move_states(ParamState& s, at::Device dev, ParamState& out) {
  auto mv = [&](const at::Tensor& t) { return t.defined() ? t.to(dev, /*non_blocking=*/false, /*copy=*/true) : t; };
  out.exp_avg = mv(s.exp_avg), out.exp_avg_sq = mv(s.exp_avg_sq);
  out.exp_avg_codes = mv(s.exp_avg_codes), out.exp_avg_absmax = mv(s.exp_avg_absmax);
  out.exp_avg_sq_codes = mv(s.exp_avg_sq_codes), out.exp_avg_sq_absmax = mv(s.exp_avg_sq_absmax);
}

void copy_back(const ParamState& from, ParamState& host) {
  auto cp = [](at::Tensor& dst, const at::Tensor& src) {
    if (dst.defined()) dst.copy_(src);
  };
  cp(host.exp_avg, from.exp_avg), cp(host.exp_avg_sq, from.exp_avg_sq);
  cp(host.exp_avg_codes, from.exp_avg_codes), cp(host.exp_avg_absmax, from.exp_avg_absmax);
  cp(host.exp_avg_sq_codes, from.exp_avg_sq_codes), cp(host.exp_avg_sq_absmax, from.exp_avg_sq_absmax);
}

}  // namespace

void bnb_step(BnbAlgorithm algo, bool eight_bit, bool paged, const BnbHyper& h, const std::string& name,
              const at::Tensor& param, ParamState& s) {
  const bool use_8bit = eight_bit && uses_8bit_state(name, param);
  if (!s.exp_avg.defined() && !s.exp_avg_codes.defined()) init_states(algo, use_8bit, paged, param, s);
  s.step += 1;
  const bool moved = paged && !param.is_cpu();
  ParamState on_device;
  ParamState& st = moved ? on_device : s;
  if (moved) move_states(s, param.device(), on_device);

  at::Tensor p32 = param.to(at::kFloat);  // the parameter itself when it is float32
  at::Tensor grad = param.grad();
  if (s.exp_avg_codes.defined()) {
    update_8bit(algo, h, s.step, grad, p32, st);
  } else {
    update_32bit(algo, h, s.step, grad.to(at::kFloat) * 1.0, p32, st.exp_avg, st.exp_avg_sq);
  }
  if (!p32.is_same(param)) param.copy_(p32);
  if (moved) copy_back(on_device, s);
}

}  // namespace axl::train
