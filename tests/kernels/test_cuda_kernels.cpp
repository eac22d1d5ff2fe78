// Our CUDA kernels (kernels/cuda/*.cu through kernels/*_cuda.cpp) against their ATen
// references, forward and backward, in float32 and bfloat16, plus the varlen flash path and the
// NF4 dequantisation kernel. The Gpu* tests need a CUDA device (the lent GPU machines, through
// scripts/gpu-suite.sh test) and skip elsewhere; the Cpu* tests check, on any machine, the
// switch and the ATen backward references the GPU tests and the CPU fallback rely on.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/kernels/attention.h"
#include "axl/kernels/cross_entropy_cuda.h"
#include "axl/kernels/cuda_switch.h"
#include "axl/kernels/flash_varlen.h"
#include "axl/kernels/linear_cross_entropy.h"
#include "axl/kernels/lora_mlp_function.h"
#include "axl/kernels/norms.h"
#include "axl/kernels/rms_norm_cuda.h"
#include "axl/kernels/rms_norm_function.h"
#include "axl/kernels/rope.h"
#include "axl/kernels/rope_cuda.h"
#include "axl/kernels/rope_inplace.h"
#include "axl/kernels/swiglu_cuda.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/dequant_cuda.h"

namespace {

namespace ck = axl::kernels::cuda;

#define AXL_REQUIRE_CUDA() \
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device on this machine"

// Switches kernels on for one test, then back to what AXL_CUDA_KERNELS says.
struct KernelsOn {
  explicit KernelsOn(const std::string& list) { ck::set_enabled_kernels(list); }
  ~KernelsOn() {
    const char* env = std::getenv("AXL_CUDA_KERNELS");
    try {
      ck::set_enabled_kernels(env ? env : "");
    } catch (const axl::Error&) {  // a bad AXL_CUDA_KERNELS: the test that reads it reports it
      ck::set_enabled_kernels("");
    }
  }
};

double max_abs(const at::Tensor& t) { return t.to(at::kFloat).abs().max().item<double>(); }

// Within a few roundings of the reference's largest value: 1/64 of it in bfloat16 (two ulps),
// 1e-4 in float32 (sums over a thousand terms in another order); `bf16_tol` widens the former.
void expect_close(const at::Tensor& got, const at::Tensor& want, const std::string& what, double bf16_tol = 1.0 / 64) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double scale = std::max(1.0, max_abs(want));
  const double tol = (got.scalar_type() == at::kFloat && want.scalar_type() == at::kFloat ? 1e-4 : bf16_tol) * scale;
  const double err = max_abs(got.cpu().to(at::kFloat) - want.cpu().to(at::kFloat));
  EXPECT_LE(err, tol) << what << ": max error " << err << " over a largest value of " << scale;
}

at::Tensor leaf(const at::Tensor& t) { return t.detach().clone().requires_grad_(true); }

// ---- on any machine -------------------------------------------------------------------

TEST(CpuCudaSwitch, NamesListsAndUnknownKernels) {
  ck::set_enabled_kernels("");
  EXPECT_FALSE(ck::enabled(ck::Kernel::RmsNorm));
  EXPECT_FALSE(ck::enabled(ck::Kernel::FlashVarlen));
  ck::set_enabled_kernels(" rms_norm , flash_varlen");
  EXPECT_EQ(ck::enabled(ck::Kernel::RmsNorm), ck::kernels_compiled());
  EXPECT_TRUE(ck::enabled(ck::Kernel::FlashVarlen));  // ATen's kernel: no nvcc needed
  EXPECT_FALSE(ck::enabled(ck::Kernel::Rope));
  ck::set_enabled_kernels("all");
  EXPECT_EQ(ck::enabled(ck::Kernel::CrossEntropy), ck::kernels_compiled());
  try {
    ck::set_enabled_kernels("rms_norm,fused_adam");
    FAIL() << "an unknown kernel name was accepted";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'fused_adam'"), std::string::npos) << e.what();
  }
  ck::set_enabled_kernels("");
}

TEST(CpuCudaFallback, CpuTensorsNeverReachAKernel) {
  KernelsOn on("all");
  at::Tensor x = at::randn({4, 16}), w = at::randn({16});
  EXPECT_FALSE(ck::rms_norm_uses_kernel(x, w));
  EXPECT_FALSE(ck::swiglu_uses_kernel(x, x));
  EXPECT_FALSE(ck::cross_entropy_uses_kernel(x, at::zeros({4}, at::kLong)));
  // Same values as the plain op when it falls back.
  EXPECT_TRUE(at::equal(ck::rms_norm_forward(x, w, 1e-6).y, axl::kernels::rms_norm(x, w, 1e-6)));
  // Packed bf16 rows on the CPU keep the per-sample path.
  axl::kernels::AttentionSpec spec;
  spec.cu_seqlens = at::tensor(std::vector<int32_t>{0, 3, 8});
  at::Tensor q = at::randn({1, 4, 8, 16}).to(at::kBFloat16);
  EXPECT_FALSE(axl::kernels::can_use_flash_varlen(q, q, q, spec));
}

// The backward references (used by the CPU fallback) against autograd through the forward.
void check_rms_norm_backward_reference(at::ScalarType dt, bool plus_one) {
  at::manual_seed(1);
  at::Tensor x = leaf(at::randn({3, 5, 96}).to(dt)), w = leaf((1 + 0.1 * at::randn({96})).to(dt));
  at::Tensor dy = at::randn({3, 5, 96}).to(dt);
  at::Tensor y = plus_one ? axl::kernels::rms_norm_plus_one(x, w, 1e-5) : axl::kernels::rms_norm(x, w, 1e-5);
  y.backward(dy);
  auto fwd = ck::rms_norm_forward_reference(x.detach(), w.detach(), 1e-5, plus_one);
  expect_close(fwd.y, y.detach(), "rms_norm forward reference");
  auto g = ck::rms_norm_backward_reference(dy, x.detach(), w.detach(), fwd.inv_rms, plus_one);
  expect_close(g.dx, x.grad(), "rms_norm dx reference");
  expect_close(g.dw, w.grad(), "rms_norm dw reference");
}

TEST(CpuCudaReference, RmsNormBackwardMatchesAutograd) {
  for (auto dt : {at::kFloat, at::kBFloat16})
    for (bool plus_one : {false, true}) check_rms_norm_backward_reference(dt, plus_one);
}

// cos/sin of real llama-style frequencies for positions 0..T-1 of each of B rows.
std::pair<at::Tensor, at::Tensor> cos_sin(int64_t b, int64_t t, int64_t rot, at::ScalarType dt, at::Device dev) {
  axl::kernels::RopeConfig r;
  r.theta = 10000;
  at::Tensor inv = axl::kernels::rope_inv_freq(r, rot, 4096, t, dev);
  at::Tensor pos = at::arange(t, at::TensorOptions().dtype(at::kLong).device(dev)).unsqueeze(0).expand({b, t});
  return axl::kernels::rope_cos_sin(inv, pos.contiguous(), dt);
}

TEST(CpuCudaReference, RopeBackwardMatchesAutograd) {
  for (int64_t rot : {32, 16}) {
    auto [c, s] = cos_sin(2, 9, rot, at::kFloat, at::kCPU);
    at::Tensor x = leaf(at::randn({2, 3, 9, 32}));
    at::Tensor dy = at::randn({2, 3, 9, 32});
    axl::kernels::apply_rope(x, c, s).backward(dy);
    expect_close(ck::rope_backward_reference(dy, c, s), x.grad(), "rope backward reference, rot " + std::to_string(rot));
    at::Tensor y = x.detach().clone();
    ck::rope_forward_(y, c, s);
    EXPECT_TRUE(at::allclose(y, axl::kernels::apply_rope(x.detach(), c, s)));
  }
}

TEST(CpuCudaReference, SwigluBackwardMatchesAutograd) {
  at::Tensor g = leaf(at::randn({5, 70}) * 3), u = leaf(at::randn({5, 70}));
  at::Tensor dh = at::randn({5, 70});
  (at::silu(g) * u).backward(dh);
  auto [dg, du] = ck::swiglu_backward_reference(dh, g.detach(), u.detach());
  expect_close(dg, g.grad(), "swiglu d_gate reference");
  expect_close(du, u.grad(), "swiglu d_up reference");
}

TEST(CpuCudaReference, CrossEntropyMatchesAtenWithIgnoredRows) {
  at::Tensor logits = leaf(at::randn({6, 300}) * 20);
  at::Tensor targets = at::tensor(std::vector<int64_t>{3, -100, 299, 0, -100, 150});
  at::Tensor loss = at::cross_entropy_loss(logits, targets, {}, at::Reduction::Sum, -100);
  at::Tensor go = at::full({}, 0.25f);
  loss.backward(go);
  auto fwd = ck::cross_entropy_forward_reference(logits.detach(), targets, -100);
  EXPECT_NEAR(fwd.loss.item<double>(), loss.item<double>(), 1e-4);
  expect_close(ck::cross_entropy_backward_reference(logits.detach(), targets, fwd.lse, go, -100), logits.grad(),
               "cross-entropy gradient reference");
}

TEST(CpuCudaReference, TargetsOutsideTheVocabularyAreAnError) {
  const at::Tensor ok = at::tensor(std::vector<int64_t>{3, -100, 299});
  EXPECT_NO_THROW(ck::check_targets_in_vocab(ok, 300, -100));
  try {
    ck::check_targets_in_vocab(at::tensor(std::vector<int64_t>{3, -100, 300}), 300, -100);
    FAIL() << "target 300 of a 300-token vocabulary was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("target 300 at row 2"), std::string::npos) << e.what();
  }
  // The chunked head + loss checks every target once, before any chunk runs.
  at::Tensor hidden = at::randn({3, 8}), weight = at::randn({300, 8});
  EXPECT_THROW(axl::kernels::linear_cross_entropy_sum(hidden, weight, at::tensor(std::vector<int64_t>{0, -7, 5})),
               std::invalid_argument);
}

// ---- on a GPU ---------------------------------------------------------------------------

class GpuKernels : public ::testing::TestWithParam<at::ScalarType> {
 protected:
  void SetUp() override {
    AXL_REQUIRE_CUDA();
    at::globalContext().setAllowTF32CuBLAS(false);
    at::manual_seed(7);
  }
  at::TensorOptions opts() const { return at::TensorOptions().dtype(GetParam()).device(at::kCUDA); }
};

TEST_P(GpuKernels, RmsNormForwardBackward) {
  KernelsOn on("rms_norm");
  for (bool plus_one : {false, true}) {
    const std::string tag = std::string(plus_one ? "gemma" : "llama") + " rms_norm ";
    // 1000 columns: not a multiple of the block, so the tails are exercised.
    at::Tensor x = leaf(at::randn({3, 37, 1000}, opts()));
    at::Tensor w = leaf((1 + 0.1 * at::randn({1000}, opts().dtype(at::kFloat))).to(GetParam()));
    at::Tensor dy = at::randn({3, 37, 1000}, opts());
    ASSERT_TRUE(ck::rms_norm_uses_kernel(x, w));
    at::Tensor y = plus_one ? axl::kernels::rms_norm_plus_one(x, w, 1e-6) : axl::kernels::rms_norm(x, w, 1e-6);
    y.backward(dy);
    auto fwd = ck::rms_norm_forward(x.detach(), w.detach(), 1e-6, plus_one);
    expect_close(fwd.y, y.detach(), tag + "y");
    expect_close(fwd.inv_rms, ck::rms_norm_forward_reference(x.detach(), w.detach(), 1e-6, plus_one).inv_rms,
                 tag + "inv_rms");
    auto g = ck::rms_norm_backward(dy, x.detach(), w.detach(), fwd.inv_rms, plus_one);
    expect_close(g.dx, x.grad(), tag + "dx");
    expect_close(g.dw, w.grad(), tag + "dw");
  }
}

TEST_P(GpuKernels, RopeForwardBackwardStridedAndInPlace) {
  KernelsOn on("rope");
  for (int64_t rot : {64, 32}) {
    const std::string tag = "rope rot " + std::to_string(rot) + " ";
    auto [c, s] = cos_sin(2, 33, rot, GetParam(), at::kCUDA);
    // [B, T, H, D] viewed as [B, H, T, D], as the attention projections give it.
    at::Tensor x = leaf(at::randn({2, 33, 4, 64}, opts())).transpose(1, 2);
    x.retain_grad();
    at::Tensor dy = at::randn({2, 4, 33, 64}, opts());
    ASSERT_TRUE(ck::rope_uses_kernel(x, c, s));
    at::Tensor y = axl::kernels::apply_rope(x, c, s);
    y.backward(dy);
    expect_close(ck::rope_forward(x.detach(), c, s), y.detach(), tag + "forward");
    expect_close(ck::rope_backward(dy, c, s), x.grad(), tag + "backward");
    at::Tensor inplace = x.detach().clone();
    ck::rope_forward_(inplace, c, s);
    EXPECT_TRUE(at::equal(inplace, ck::rope_forward(x.detach(), c, s))) << tag;
    at::Tensor g = dy.clone();
    ck::rope_backward_(g, c, s);
    EXPECT_TRUE(at::equal(g, ck::rope_backward(dy, c, s))) << tag;
  }
}

TEST_P(GpuKernels, SwigluForwardBackward) {
  KernelsOn on("swiglu");
  at::Tensor g = leaf(at::randn({7, 1333}, opts()) * 3), u = leaf(at::randn({7, 1333}, opts()));
  at::Tensor dh = at::randn({7, 1333}, opts());
  ASSERT_TRUE(ck::swiglu_uses_kernel(g, u));
  at::Tensor h = at::silu(g) * u;
  h.backward(dh);
  expect_close(ck::swiglu_forward(g.detach(), u.detach()), h.detach(), "swiglu forward");
  auto [dg, du] = ck::swiglu_backward(dh, g.detach(), u.detach());
  expect_close(dg, g.grad(), "swiglu d_gate");
  expect_close(du, u.grad(), "swiglu d_up");
}

TEST_P(GpuKernels, CrossEntropyForwardBackward) {
  KernelsOn on("cross_entropy");
  // A vocabulary not a multiple of the block; large logits test the online max.
  at::Tensor logits = leaf(at::randn({37, 32003}, opts()) * 30);
  at::Tensor targets = at::randint(32003, {37}, at::TensorOptions().dtype(at::kLong).device(at::kCUDA));
  targets.index_put_({at::arange(0, 37, 5, targets.options())}, -100);
  at::Tensor go = at::full({}, 0.125f, opts().dtype(at::kFloat));
  ASSERT_TRUE(ck::cross_entropy_uses_kernel(logits, targets));
  at::Tensor loss = at::cross_entropy_loss(logits.to(at::kFloat), targets, {}, at::Reduction::Sum, -100);
  loss.backward(go);
  auto fwd = ck::cross_entropy_forward(logits.detach(), targets);
  EXPECT_NEAR(fwd.loss.item<double>(), loss.item<double>(), 1e-5 * std::max(1.0, std::abs(loss.item<double>())));
  expect_close(fwd.lse, at::logsumexp(logits.detach().to(at::kFloat), -1), "cross-entropy lse");
  expect_close(ck::cross_entropy_backward(logits.detach(), targets, fwd.lse, go), logits.grad(), "cross-entropy grad");
  at::Tensor scratch = logits.detach().clone();
  at::Tensor in_place = ck::cross_entropy_backward(scratch, targets, fwd.lse, go, -100, /*in_place=*/true);
  EXPECT_EQ(in_place.data_ptr(), scratch.data_ptr());
  expect_close(in_place, logits.grad(), "cross-entropy grad in place");
}

// The output and the leaves' gradients of fn() backpropagating dy, with `kernels` switched on.
std::vector<at::Tensor> run_with_kernels(const std::string& kernels, const std::function<at::Tensor()>& fn,
                                         const std::vector<at::Tensor>& leaves, const at::Tensor& dy) {
  KernelsOn on(kernels);
  for (const at::Tensor& l : leaves) l.mutable_grad() = at::Tensor();
  const at::Tensor y = fn();
  y.backward(dy);
  std::vector<at::Tensor> out{y.detach().clone()};
  for (const at::Tensor& l : leaves) out.push_back(l.grad().clone());
  return out;
}

void expect_same_with_and_without(const std::string& what, const std::function<at::Tensor()>& fn,
                                  const std::vector<at::Tensor>& leaves, const at::Tensor& dy) {
  const auto on = run_with_kernels("all", fn, leaves, dy), off = run_with_kernels("", fn, leaves, dy);
  for (size_t i = 0; i < on.size(); ++i) expect_close(on[i], off[i], what + (i == 0 ? " output" : " gradient " + std::to_string(i)));
}

// A CUDA projection in -> out: frozen base of the test's dtype, float32 LoRA A/B (leaves).
axl::kernels::LowRankLinear cuda_projection(int64_t in, int64_t out, at::ScalarType dt) {
  axl::kernels::LowRankLinear p;
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA);
  const at::Tensor w = (at::randn({out, in}, f32) / std::sqrt(static_cast<double>(in))).to(dt);
  p.weight = [w] { return w; };
  p.lora_a = leaf(at::randn({8, in}, f32) * 0.1);
  p.lora_b = leaf(at::randn({out, 8}, f32) * 0.1);
  p.scaling = 2.0;
  return p;
}

// The training functions (kernels/*_function, rope_inplace, linear_cross_entropy) reach the
// kernels when they are on, and give what their ATen math gives when they are off.
TEST_P(GpuKernels, FusedTrainingFunctionsRunTheKernels) {
  KernelsOn all("all");
  const at::ScalarType dt = GetParam();
  {
    at::Tensor x = leaf(at::randn({3, 37, 1000}, opts()));
    at::Tensor w = leaf((1 + 0.1 * at::randn({1000}, opts().dtype(at::kFloat))).to(dt));
    ASSERT_TRUE(ck::rms_norm_uses_kernel(x, w));
    for (bool plus_one : {false, true})
      expect_same_with_and_without(plus_one ? "rms_norm_fused (1 + w)" : "rms_norm_fused",
                                   [&] { return axl::kernels::rms_norm_fused(x, w, 1e-6, plus_one); }, {x, w},
                                   at::randn({3, 37, 1000}, opts()));
  }
  for (int64_t rot : {64, 32}) {
    auto [c, s] = cos_sin(2, 33, rot, at::kFloat, at::kCUDA);  // float32, as the model makes them
    at::Tensor src = leaf(at::randn({2, 33, 4 * 64}, opts()));
    at::Tensor probe = src.detach().clone();
    ASSERT_TRUE(ck::rope_uses_kernel(probe.view({2, 33, 4, 64}).permute({0, 2, 1, 3}), c.to(dt), s.to(dt)));
    expect_same_with_and_without(
        "apply_rope_inplace_ rot " + std::to_string(rot),
        [&] { return axl::kernels::apply_rope_inplace_(src * 1, 64, c, s); }, {src}, at::randn({2, 33, 4 * 64}, opts()));
  }
  {
    at::Tensor x = leaf(at::randn({2, 45, 256}, opts()));
    auto gate = cuda_projection(256, 688, dt), up = cuda_projection(256, 688, dt), down = cuda_projection(688, 256, dt);
    at::Tensor e = at::randn({90, 688}, opts());
    ASSERT_TRUE(ck::swiglu_uses_kernel(e, e));
    expect_same_with_and_without(
        "lora_gated_mlp (SwiGLU)", [&] { return axl::kernels::lora_gated_mlp(x, {gate, up}, down); },
        {x, gate.lora_a, gate.lora_b, up.lora_a, up.lora_b, down.lora_a, down.lora_b}, at::randn({2, 45, 256}, opts()));
  }
  {
    at::Tensor hidden = leaf(at::randn({300, 64}, opts()));
    at::Tensor weight = (at::randn({32003, 64}, opts().dtype(at::kFloat)) * 0.2).to(dt);
    at::Tensor targets = at::randint(32003, {300}, at::TensorOptions().dtype(at::kLong).device(at::kCUDA));
    targets.index_put_({at::arange(0, 300, 7, targets.options())}, -100);
    ASSERT_TRUE(ck::cross_entropy_uses_kernel(at::empty({64, 32003}, opts()), targets.narrow(0, 0, 64)));
    expect_same_with_and_without(
        "linear_cross_entropy_sum",
        [&] { return axl::kernels::linear_cross_entropy_sum(hidden, weight, targets, -100, 64); }, {hidden},
        at::full({}, 1.0 / 300, opts().dtype(at::kFloat)));
    EXPECT_THROW(axl::kernels::linear_cross_entropy_sum(hidden, weight, at::full_like(targets, 32003)),
                 std::invalid_argument);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GpuKernels, ::testing::Values(at::kFloat, at::kBFloat16),
                         [](const auto& info) { return std::string(c10::toString(info.param)); });

TEST(GpuNf4Dequant, KernelEqualsTheCpuDecoderBitForBit) {
  AXL_REQUIRE_CUDA();
  KernelsOn on("nf4_dequant");
  ASSERT_TRUE(axl::quant::dequantize_4bit_cuda_available());
  at::manual_seed(3);
  // 131 x 67 values: not a whole number of 64-value blocks, and an odd count (half a byte).
  for (bool nested : {false, true}) {
    axl::quant::Quantized4bit q =
        axl::quant::quantize_4bit(at::randn({131, 67}), axl::quant::Quant4Type::NF4, 64, nested);
    at::Tensor want = axl::quant::dequantize_4bit(q, at::kBFloat16);
    axl::quant::move_to(q, at::kCUDA);
    at::Tensor got = at::empty({131, 67}, at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA));
    axl::quant::dequantize_4bit_cuda(q, got);
    EXPECT_TRUE(at::equal(got.cpu(), want)) << "nested " << nested << ": max error " << max_abs(got.cpu() - want);
  }
}

// Packed attention on CUDA: the varlen flash path against eager attention per sample in
// float32, forward and gradients.
// Packed rows on CUDA: flash's varlen kernel when switched on, else SDPA per sample (the
// default), both against eager attention with the block-diagonal mask in float32.
TEST(GpuFlashVarlen, MatchesEagerPerSampleForwardAndBackward) {
  AXL_REQUIRE_CUDA();
  at::manual_seed(11);
  auto bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  const int64_t t = 300;
  for (const std::string kernels : {"flash_varlen", ""})
  for (int64_t window : {0, 40}) {
    KernelsOn on(kernels);
    const std::string tag = (kernels.empty() ? "per-sample SDPA" : "flash varlen") + std::string(" window ") +
                            std::to_string(window) + " ";
    at::Tensor q = leaf(at::randn({1, t, 8, 64}, bf16)), k = leaf(at::randn({1, t, 2, 64}, bf16)),
               v = leaf(at::randn({1, t, 2, 64}, bf16));
    axl::kernels::AttentionSpec spec;
    spec.cu_seqlens = at::tensor(std::vector<int32_t>{0, 50, 170, 171, 300});
    spec.sliding_window = window;
    at::Tensor qh = q.transpose(1, 2), kh = k.transpose(1, 2), vh = v.transpose(1, 2);
    ASSERT_EQ(axl::kernels::can_use_flash_varlen(qh, kh, vh, spec), !kernels.empty());
    at::Tensor dy = at::randn({1, 8, t, 64}, bf16);
    at::Tensor out = axl::kernels::attention(qh, kh, vh, spec);
    out.backward(dy);

    at::Tensor q32 = leaf(q.detach().to(at::kFloat)), k32 = leaf(k.detach().to(at::kFloat)),
               v32 = leaf(v.detach().to(at::kFloat));
    axl::kernels::AttentionSpec eager = spec;
    eager.impl = axl::kernels::AttentionImpl::Eager;
    at::Tensor want = axl::kernels::attention(q32.transpose(1, 2), k32.transpose(1, 2), v32.transpose(1, 2), eager);
    want.backward(dy.to(at::kFloat));
    // The backward multiplies bf16-rounded probabilities: a looser bound, still far below the
    // error of a wrong mask or layout (of the order of the largest value).
    expect_close(out, want.detach(), tag + "output");
    expect_close(q.grad(), q32.grad(), tag + "dq", 1.0 / 32);
    expect_close(k.grad(), k32.grad(), tag + "dk", 1.0 / 32);
    expect_close(v.grad(), v32.grad(), tag + "dv", 1.0 / 32);
  }
}

// Dense batches on CUDA: SDPA with grouped K/V heads (no expanded copies) against eager.
TEST(GpuDenseAttention, GroupedQuerySdpaMatchesEager) {
  AXL_REQUIRE_CUDA();
  at::manual_seed(5);
  auto bf16 = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
  at::Tensor q = leaf(at::randn({2, 8, 128, 64}, bf16)), k = leaf(at::randn({2, 2, 128, 64}, bf16)),
             v = leaf(at::randn({2, 2, 128, 64}, bf16));
  at::Tensor out = axl::kernels::attention(q, k, v, {});
  at::Tensor q32 = q.detach().to(at::kFloat), k32 = k.detach().to(at::kFloat), v32 = v.detach().to(at::kFloat);
  axl::kernels::AttentionSpec eager;
  eager.impl = axl::kernels::AttentionImpl::Eager;
  expect_close(out, axl::kernels::attention(q32, k32, v32, eager), "dense GQA attention");
}

}  // namespace
