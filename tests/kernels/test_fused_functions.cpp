// The Unsloth-style autograd functions against plain autograd on fresh random inputs: the
// LoRA projection group (Q/K/V, O), the LoRA SwiGLU MLP, in-place RoPE, the RMSNorm function
// and the chunked linear + cross-entropy. Outputs and every gradient within
// ||got - ref|| / ||ref|| <= 1e-6 in float64 and 1e-2 in bfloat16 (float32 adapters on a
// bfloat16 base, as LoRA trains), with dropout on, so the fused functions draw the plain
// path's masks.
#include <gtest/gtest.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "axl/kernels/linear_cross_entropy.h"
#include "axl/kernels/lora_linear_function.h"
#include "axl/kernels/lora_mlp_function.h"
#include "axl/kernels/rms_norm_function.h"
#include "axl/kernels/norms.h"
#include "axl/kernels/rope.h"
#include "axl/kernels/rope_config.h"
#include "axl/kernels/rope_inplace.h"

namespace {

using axl::kernels::LowRankLinear;

double relative_error(const at::Tensor& got, const at::Tensor& ref) {
  const at::Tensor r = ref.to(at::kDouble), g = got.to(at::kDouble);
  const double denom = r.norm().item<double>();
  return (g - r).norm().item<double>() / (denom > 0 ? denom : 1.0);
}

// Every pair within `tol`, printed so the log shows the measured errors.
void expect_close(const std::vector<at::Tensor>& got, const std::vector<at::Tensor>& ref, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].defined() && ref[i].defined()) << what << ": tensor " << i << " missing";
    EXPECT_EQ(got[i].sizes(), ref[i].sizes()) << what << " " << i;
    const double e = relative_error(got[i], ref[i]);
    EXPECT_LE(e, tol) << what << ": tensor " << i;
    worst = std::max(worst, e);
  }
  std::printf("%s: worst relative error %.3g over %zu tensors\n", what.c_str(), worst, got.size());
}

// A projection in -> out with a frozen base of `dtype` and a float32/float64 LoRA update.
LowRankLinear make_projection(int64_t in, int64_t out, int64_t r, at::ScalarType dtype, double dropout, bool bias) {
  const at::ScalarType adapter = dtype == at::kDouble ? at::kDouble : at::kFloat;
  LowRankLinear p;
  at::Tensor w = (at::randn({out, in}, at::kDouble) / std::sqrt(static_cast<double>(in))).to(dtype);
  p.weight = [w] { return w; };
  if (bias) p.bias = (at::randn({out}, at::kDouble) * 0.1).to(dtype);
  p.lora_a = (at::randn({r, in}, at::kDouble) * 0.2).to(adapter).requires_grad_(true);
  p.lora_b = (at::randn({out, r}, at::kDouble) * 0.2).to(adapter).requires_grad_(true);
  p.scaling = 2.0;
  p.dropout = dropout;
  return p;
}

std::vector<at::Tensor> grad_inputs(const at::Tensor& x, const std::vector<LowRankLinear>& ps) {
  std::vector<at::Tensor> in{x};
  for (const auto& p : ps)
    if (p.has_update()) in.insert(in.end(), {p.lora_a, p.lora_b});
  return in;
}

// Outputs, then gradients of a random weighted sum of them, for the same dropout seed.
template <typename Fn>
std::vector<at::Tensor> outputs_and_grads(Fn fn, const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& w,
                                          uint64_t seed) {
  at::manual_seed(seed);
  std::vector<at::Tensor> outs = fn();
  at::Tensor total = at::zeros({}, at::kDouble);
  for (size_t i = 0; i < outs.size(); ++i) total = total + (outs[i].to(at::kDouble) * w[i]).sum();
  std::vector<at::Tensor> result;
  for (auto& o : outs) result.push_back(o.detach());
  for (auto& g : torch::autograd::grad({total}, inputs)) result.push_back(g);
  return result;
}

// The fused function's outputs and gradients against the reference's, same dropout seed.
template <typename Ref, typename Got>
void compare_with_reference(const std::string& what, Ref ref_fn, Got got_fn, const std::vector<at::Tensor>& inputs,
                            const std::vector<at::Tensor>& w, double tol, uint64_t seed = 0) {
  expect_close(outputs_and_grads(got_fn, inputs, w, seed), outputs_and_grads(ref_fn, inputs, w, seed), tol, what);
}

std::string label(const std::string& what, at::ScalarType dtype, const std::string& extra = "") {
  return what + " " + c10::toString(dtype) + extra;
}

void check_group(at::ScalarType dtype, double dropout, double tol) {
  at::manual_seed(7);
  const at::Tensor x = at::randn({2, 9, 32}, at::kDouble).to(dtype).requires_grad_(true);
  // Q, K, V of a GQA layer (V with a bias, K without an update: a slot LoRA does not target).
  std::vector<LowRankLinear> ps{make_projection(32, 32, 4, dtype, dropout, false),
                                make_projection(32, 16, 4, dtype, dropout, false),
                                make_projection(32, 16, 4, dtype, dropout, true)};
  ps[1].lora_a = ps[1].lora_b = at::Tensor();
  std::vector<at::Tensor> w;
  for (int64_t out : {32, 16, 16}) w.push_back(at::randn({2, 9, out}, at::kDouble));
  compare_with_reference(
      label("LoRA QKV group", dtype, " dropout " + std::to_string(dropout)),
      [&] { return axl::kernels::lora_linear_group_reference(x, ps); },
      [&] { return axl::kernels::lora_linear_group(x, ps); }, grad_inputs(x, ps), w, tol, 3);
}

TEST(FusedLoraLinear, DropoutReallyDrawsMasks) {
  // Another seed must give other LoRA gradients: the equality above compares real masks.
  at::manual_seed(7);
  const at::Tensor x = at::randn({2, 9, 32}, at::kDouble).requires_grad_(true);
  std::vector<LowRankLinear> ps{make_projection(32, 32, 4, at::kDouble, 0.1, false)};
  std::vector<at::Tensor> w{at::randn({2, 9, 32}, at::kDouble)};
  const auto a = outputs_and_grads([&] { return axl::kernels::lora_linear_group(x, ps); }, grad_inputs(x, ps), w, 3);
  const auto b = outputs_and_grads([&] { return axl::kernels::lora_linear_group(x, ps); }, grad_inputs(x, ps), w, 4);
  EXPECT_GT(relative_error(a[2], b[2]), 1e-3);
}

TEST(FusedLoraLinear, OutputsAreNotViews) {
  at::manual_seed(1);
  const at::Tensor x = at::randn({2, 3, 8}, at::kDouble).requires_grad_(true);
  const auto outs = axl::kernels::lora_linear_group(x, {make_projection(8, 8, 2, at::kDouble, 0, false)});
  EXPECT_TRUE(axl::kernels::can_rotate_in_place(outs[0]));
}

using axl::kernels::GatedActivation;

const char* activation_name(GatedActivation act) {
  return act == GatedActivation::Silu ? "SwiGLU" : act == GatedActivation::GeluTanh ? "GeGLU (tanh)" : "GeGLU";
}

// Gate and up as two projections, or merged into one gate_up (Phi-3): same function.
void check_mlp(at::ScalarType dtype, double dropout, double tol, GatedActivation act = GatedActivation::Silu,
               bool merged = false) {
  at::manual_seed(11);
  const at::Tensor x = at::randn({2, 7, 24}, at::kDouble).to(dtype).requires_grad_(true);
  std::vector<LowRankLinear> gate_up;
  if (merged) gate_up.push_back(make_projection(24, 80, 4, dtype, dropout, false));
  else gate_up = {make_projection(24, 40, 4, dtype, dropout, false), make_projection(24, 40, 4, dtype, dropout, false)};
  const LowRankLinear down = make_projection(40, 24, 4, dtype, dropout, false);
  std::vector<LowRankLinear> all = gate_up;
  all.push_back(down);
  std::vector<at::Tensor> w{at::randn({2, 7, 24}, at::kDouble)};
  compare_with_reference(
      label(std::string("LoRA ") + activation_name(act) + (merged ? " MLP (gate_up)" : " MLP"), dtype,
            " dropout " + std::to_string(dropout)),
      [&] { return std::vector<at::Tensor>{axl::kernels::lora_gated_mlp_reference(x, gate_up, down, act)}; },
      [&] { return std::vector<at::Tensor>{axl::kernels::lora_gated_mlp(x, gate_up, down, act)}; },
      grad_inputs(x, all), w, tol, 5);
}

// The QKV group and the MLP: float64 with and without dropout, bfloat16 with it.
TEST(FusedLora, GroupAndMlpMatchAutogradFloat64) {
  for (double dropout : {0.0, 0.1}) {
    check_group(at::kDouble, dropout, 1e-6);
    check_mlp(at::kDouble, dropout, 1e-6);
  }
}

TEST(FusedLora, GroupAndMlpMatchAutogradBFloat16) {
  check_group(at::kBFloat16, 0.1, 1e-2);
  check_mlp(at::kBFloat16, 0.1, 1e-2);
}

// Gemma's GeGLU (tanh and exact GELU) and Phi-3's merged gate_up.
TEST(FusedLoraMlp, GeluAndMergedGateUpMatchAutograd) {
  for (GatedActivation act : {GatedActivation::GeluTanh, GatedActivation::Gelu, GatedActivation::Silu})
    for (bool merged : {false, true}) {
      if (act == GatedActivation::Silu && !merged) continue;  // above
      check_mlp(at::kDouble, 0.1, 1e-6, act, merged);
      check_mlp(at::kBFloat16, 0.1, 1e-2, act, merged);
    }
  check_mlp(at::kDouble, 0.0, 1e-6, GatedActivation::GeluTanh, true);
}

TEST(FusedLoraMlp, ActivationNames) {
  EXPECT_EQ(axl::kernels::gated_activation("silu"), GatedActivation::Silu);
  EXPECT_EQ(axl::kernels::gated_activation("gelu_pytorch_tanh"), GatedActivation::GeluTanh);
  EXPECT_EQ(axl::kernels::gated_activation("gelu_new"), GatedActivation::GeluTanh);
  EXPECT_EQ(axl::kernels::gated_activation("gelu"), GatedActivation::Gelu);
  EXPECT_FALSE(axl::kernels::gated_activation("relu").has_value());
}

TEST(FusedLoraMlp, FrozenInputGetsNoGradientButLoraDoes) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({1, 4, 8}, at::kDouble);  // e.g. the frozen embeddings
  auto g = make_projection(8, 12, 2, at::kDouble, 0, false), u = make_projection(8, 12, 2, at::kDouble, 0, false),
       d = make_projection(12, 8, 2, at::kDouble, 0, false);
  const at::Tensor y = axl::kernels::lora_gated_mlp(x, {g, u}, d);
  y.sum().backward();
  EXPECT_TRUE(d.lora_a.grad().defined());
  EXPECT_GT(g.lora_b.grad().abs().sum().item<double>(), 0);
}

void check_rope(at::ScalarType dtype, int64_t rotary_dim, double tol) {
  const int64_t b = 2, t = 6, heads = 3, d = 8;
  at::manual_seed(13);
  axl::kernels::RopeConfig rc;
  const at::Tensor inv = axl::kernels::rope_inv_freq(rc, rotary_dim, 128, t, at::kCPU);
  const at::Tensor pos = at::arange(t, at::kLong).unsqueeze(0).expand({b, t}) + 3;
  auto [cos, sin] = axl::kernels::rope_cos_sin(inv, pos, dtype);
  const at::Tensor src = at::randn({b, t, heads * d}, at::kDouble).to(dtype).requires_grad_(true);
  const at::Tensor w = at::randn({b, heads, t, d}, at::kDouble);
  auto split = [&](const at::Tensor& y) { return y.view({b, t, heads, d}).transpose(1, 2); };
  // The rotated tensor must be a fresh non-view (as a projection's output is): src * 1.
  const auto ref = outputs_and_grads(
      [&] { return std::vector<at::Tensor>{axl::kernels::apply_rope(split(src * 1), cos, sin)}; }, {src}, {w}, 0);
  at::Tensor rotated;
  const auto got = outputs_and_grads(
      [&] {
        const at::Tensor y = src * 1;
        rotated = axl::kernels::apply_rope_inplace_(y, d, cos, sin);
        EXPECT_EQ(rotated.data_ptr(), y.data_ptr());  // in place: no output buffer of its own
        return std::vector<at::Tensor>{split(rotated)};
      },
      {src}, {w}, 0);
  expect_close(got, ref, tol, label("in-place RoPE", dtype, " rot " + std::to_string(rotary_dim)));
}

TEST(FusedRope, InPlaceMatchesAutograd) {
  check_rope(at::kDouble, 8, 1e-6);
  check_rope(at::kDouble, 4, 1e-6);  // partial rotary (Phi-3 style): the rest passes through
  check_rope(at::kBFloat16, 8, 1e-2);
}

TEST(FusedRope, RefusesViews) {
  const at::Tensor base = at::randn({1, 2, 16}, at::kDouble);
  auto [cos, sin] = axl::kernels::rope_cos_sin(axl::kernels::rope_inv_freq({}, 8, 64, 2, at::kCPU),
                                              at::arange(2, at::kLong).unsqueeze(0), at::kDouble);
  EXPECT_THROW(axl::kernels::apply_rope_inplace_(base.narrow(-1, 0, 8), 8, cos, sin), std::invalid_argument);
  EXPECT_FALSE(axl::kernels::can_rotate_in_place(base.view({1, 2, 2, 8})));
}

void check_rms(at::ScalarType dtype, bool plus_one, double tol) {
  at::manual_seed(17);
  const at::Tensor x = (at::randn({2, 5, 32}, at::kDouble) * 3).to(dtype).requires_grad_(true);
  const at::Tensor weight = (at::randn({32}, at::kDouble) * 0.2 + (plus_one ? 0.0 : 1.0)).to(dtype).requires_grad_(true);
  const at::Tensor w = at::randn({2, 5, 32}, at::kDouble);
  compare_with_reference(
      label(plus_one ? "RMSNorm (1 + w)" : "RMSNorm", dtype),
      [&] {
        return std::vector<at::Tensor>{plus_one ? axl::kernels::rms_norm_plus_one(x, weight, 1e-6)
                                                : axl::kernels::rms_norm(x, weight, 1e-6)};
      },
      [&] { return std::vector<at::Tensor>{axl::kernels::rms_norm_fused(x, weight, 1e-6, plus_one)}; }, {x, weight}, {w},
      tol);
}

TEST(FusedRmsNorm, MatchesAutograd) {
  check_rms(at::kDouble, false, 1e-6);
  check_rms(at::kDouble, true, 1e-6);
  check_rms(at::kBFloat16, false, 1e-2);
  check_rms(at::kBFloat16, true, 1e-2);
}

void check_chunked_ce(at::ScalarType dtype, double tol) {
  at::manual_seed(19);
  const int64_t n = 37, h = 16, vocab = 300;
  const at::Tensor hidden = at::randn({n, h}, at::kDouble).to(dtype).requires_grad_(true);
  const at::Tensor weight = (at::randn({vocab, h}, at::kDouble) * 0.3).to(dtype).requires_grad_(true);
  at::Tensor targets = at::randint(vocab, {n}, at::kLong);
  targets.index_put_({at::indexing::Slice(0, n, 4)}, -100);
  // Token-sum normalisation: the summed loss over the trained tokens, divided by their count.
  const double tokens = targets.ne(-100).sum().item<double>();
  const std::vector<at::Tensor> w{at::full({}, 1.0 / tokens, at::kDouble)};
  compare_with_reference(
      label("chunked linear + cross-entropy", dtype),
      [&] { return std::vector<at::Tensor>{axl::kernels::linear_cross_entropy_sum_reference(hidden, weight, targets)}; },
      [&] { return std::vector<at::Tensor>{axl::kernels::linear_cross_entropy_sum(hidden, weight, targets, -100, 8)}; },
      {hidden, weight}, w, tol);
}

TEST(FusedChunkedCrossEntropy, MatchesAutogradWithIgnoredTokens) {
  check_chunked_ce(at::kDouble, 1e-6);
  check_chunked_ce(at::kBFloat16, 1e-2);
}

// Ignored rows skip the head's GEMMs: all ignored gives a zero loss with zero (not missing)
// gradients; ignored rows get exactly zero gradient rows.
TEST(FusedChunkedCrossEntropy, IgnoredRowsGetZeroGradients) {
  at::manual_seed(23);
  const at::Tensor hidden = at::randn({6, 8}, at::kDouble).requires_grad_(true);
  const at::Tensor weight = at::randn({50, 8}, at::kDouble).requires_grad_(true);
  at::Tensor none = axl::kernels::linear_cross_entropy_sum(hidden, weight, at::full({6}, -100, at::kLong));
  EXPECT_EQ(none.item<double>(), 0.0);
  none.backward();
  EXPECT_EQ(hidden.grad().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(weight.grad().abs().sum().item<double>(), 0.0);
  hidden.mutable_grad().reset();
  weight.mutable_grad().reset();
  const at::Tensor targets = at::tensor(std::vector<int64_t>{-100, 3, -100, -100, 49, -100});
  at::Tensor some = axl::kernels::linear_cross_entropy_sum(hidden, weight, targets, -100, 1);
  some.backward();
  const at::Tensor ref = axl::kernels::linear_cross_entropy_sum_reference(hidden, weight, targets);
  EXPECT_NEAR(some.item<double>(), ref.item<double>(), 1e-12);
  for (int64_t row : {0, 2, 3, 5}) EXPECT_EQ(hidden.grad()[row].abs().sum().item<double>(), 0.0) << row;
  EXPECT_GT(hidden.grad()[1].abs().sum().item<double>(), 0.0);
}

}  // namespace
