#include "axl/train/optim_bnb_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace axl::train {

namespace {
bool cpu_contiguous(const at::Tensor& t) { return t.defined() && t.is_cpu() && t.is_contiguous(); }

// The moment updates with the multiply-adds ATen fuses. Without FMA instructions in the
// baseline x86-64 target, fmaf is a slow library call (it made the step 20x slower), so GCC
// builds an FMA clone of each loop and picks it at load time where the CPU has FMA. The file
// is built with -ffp-contract=off (src/axl/CMakeLists.txt), so only these explicit fmaf are fused.
__attribute__((target_clones("fma", "default"))) void adam_moments(float* s1, float* s2, const float* g,
                                                                   int64_t count, float beta1, float one_minus_beta1,
                                                                   float beta2, float one_minus_beta2) {
  for (int64_t i = 0; i < count; ++i) {
    s1[i] = __builtin_fmaf(g[i], one_minus_beta1, s1[i] * beta1);
    s2[i] = __builtin_fmaf(one_minus_beta2 * g[i], g[i], s2[i] * beta2);
  }
}

__attribute__((target_clones("fma", "default"))) void lion_moment(float* s1, const float* g, int64_t count,
                                                                  float beta2, float one_minus_beta2) {
  for (int64_t i = 0; i < count; ++i) s1[i] = __builtin_fmaf(g[i], one_minus_beta2, s1[i] * beta2);
}
}  // namespace

bool can_fuse_8bit_step_cpu(const at::Tensor& grad, const at::Tensor& p32, const BlockwiseState& q1) {
  return cpu_contiguous(grad) && cpu_contiguous(p32) && p32.scalar_type() == at::kFloat &&
         (grad.scalar_type() == at::kFloat || grad.scalar_type() == at::kBFloat16 ||
          grad.scalar_type() == at::kHalf) &&
         cpu_contiguous(q1.codes) && cpu_contiguous(q1.absmax);
}

void fused_8bit_step_cpu(BnbAlgorithm algo, const BnbHyper& h, int64_t step, const at::Tensor& grad_in,
                         const at::Tensor& p32, BlockwiseState& q1, BlockwiseState& q2) {
  const at::Tensor grad = grad_in.to(at::kFloat).contiguous();
  const bool adam = algo == BnbAlgorithm::Adam;
  const float* map1 = dynamic_map(true, at::kCPU).data_ptr<float>();
  const float* map2 = dynamic_map(false, at::kCPU).data_ptr<float>();
  const float* g = grad.data_ptr<float>();
  float* p = p32.data_ptr<float>();
  uint8_t* codes1 = q1.codes.data_ptr<uint8_t>();
  float* absmax1 = q1.absmax.data_ptr<float>();
  uint8_t* codes2 = adam ? q2.codes.data_ptr<uint8_t>() : nullptr;
  float* absmax2 = adam ? q2.absmax.data_ptr<float>() : nullptr;
  const int64_t n = p32.numel();

  // Scalars as ATen casts them for float32 tensors (double scalars become float).
  const float beta1 = static_cast<float>(h.beta1), beta2 = static_cast<float>(h.beta2);
  const float one_minus_beta1 = static_cast<float>(1.0 - h.beta1), one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  const double correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
  const float correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(h.beta2, static_cast<double>(step))));
  const float eps = static_cast<float>(h.eps);
  const float step_size = static_cast<float>(-h.lr / correction1);
  const float lion_step = static_cast<float>(-h.lr);
  const bool decay = h.weight_decay > 0.0;
  const float decay_factor = static_cast<float>(1.0 - h.lr * h.weight_decay);

  const int64_t blocks = state_blocks(n);
  constexpr int64_t kGrain = 64;  // blocks per task
  auto dequantize = [&](const uint8_t* codes, const float* absmax, const float* map, float* out, int64_t b0,
                        int64_t b1) {
    for (int64_t i = b0 * kStateBlockSize, end = std::min(n, b1 * kStateBlockSize); i < end; ++i)
      out[i] = map[codes[i]] * absmax[i / kStateBlockSize];
  };
  // Built once: the maps are dynamic_map's cached tensors, alive for the whole process.
  static const CodeSearch search1(map1), search2(map2);
  auto requantize = [&](const float* values, const CodeSearch& search, uint8_t* codes, float* absmax, int64_t b0,
                        int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = b * kStateBlockSize, len = std::min(n, begin + kStateBlockSize) - begin;
      absmax[b] = quantize_block_cpu(values + begin, len, search, codes + begin);
    }
  };
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  at::Tensor state1 = at::empty({n}, f32);
  float* s1 = state1.data_ptr<float>();

  if (!adam) {  // Lion: one pass per block range
    at::parallel_for(0, blocks, kGrain, [&](int64_t b0, int64_t b1) {
      dequantize(codes1, absmax1, map1, s1, b0, b1);
      const int64_t begin = b0 * kStateBlockSize, count = std::min(n, b1 * kStateBlockSize) - begin;
      for (int64_t i = begin; i < begin + count; ++i) {
        if (decay) p[i] = p[i] * decay_factor;
        const float direction = s1[i] * beta1 + g[i] * one_minus_beta1;
        const float sign = static_cast<float>((direction > 0.0f) - (direction < 0.0f));
        p[i] = p[i] + lion_step * sign;  // exact: lion_step * +-1
      }
      lion_moment(s1 + begin, g + begin, count, beta2, one_minus_beta2);
      requantize(s1, search1, codes1, absmax1, b0, b1);
    });
    return;
  }

  // Adam: moments, then ATen's own sqrt over the whole second moment (its vectorised float
  // sqrt, MKL's VML, is not the correctly rounded one, and bitsandbytes' first step must be
  // matched bit for bit), then the parameter update and re-quantisation.
  at::Tensor state2 = at::empty({n}, f32);
  float* s2 = state2.data_ptr<float>();
  at::parallel_for(0, blocks, kGrain, [&](int64_t b0, int64_t b1) {
    dequantize(codes1, absmax1, map1, s1, b0, b1);
    dequantize(codes2, absmax2, map2, s2, b0, b1);
    const int64_t begin = b0 * kStateBlockSize, count = std::min(n, b1 * kStateBlockSize) - begin;
    adam_moments(s1 + begin, s2 + begin, g + begin, count, beta1, one_minus_beta1, beta2, one_minus_beta2);
  });
  const at::Tensor root_t = state2.sqrt();
  const float* root = root_t.data_ptr<float>();
  at::parallel_for(0, blocks, kGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0 * kStateBlockSize, end = std::min(n, b1 * kStateBlockSize); i < end; ++i) {
      const float denom = root[i] / correction2 + eps;
      if (decay) p[i] = p[i] * decay_factor;
      p[i] = p[i] + (step_size * s1[i]) / denom;  // addcdiv_: self + value * t1 / t2
    }
    requantize(s1, search1, codes1, absmax1, b0, b1);
    requantize(s2, search2, codes2, absmax2, b0, b1);
  });
}

}  // namespace axl::train
