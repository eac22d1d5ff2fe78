#pragma once
// Unsloth-style LoRA projections with a manual backward (DESIGN "Kernels": the math here is
// the plain-ATen reference a CUDA kernel may later replace). A projection is
//   y = x W^T + bias + s * (dropout(x) A^T) B^T
// with a frozen base W (dense, or dequantised on demand from a quantized base) and trainable
// A [r, in], B [out, r]. Plain autograd keeps x, x A^T, the dropped x and more per projection;
// these functions keep only the shared input x (and the dropout multipliers when dropout is
// on), never form the [out, in] gradient of W, and order the LoRA products so every GEMM has
// a rank-r side: dA = s (dY B)^T x, dB = s dY^T (x A^T), dx = dY W + s (dY B) A.
#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <vector>

namespace axl::kernels {

// One projection that is "frozen base + at most one low-rank update" (what
// LinearSlot::low_rank() reports).
struct LowRankLinear {
  std::function<at::Tensor()> weight;  // the frozen base [out, in], dense (dequantised per call)
  at::Tensor bias;                     // frozen; undefined: none
  at::Tensor lora_a, lora_b;           // [r, in], [out, r]; undefined: no update (a plain base)
  double scaling = 1.0;
  double dropout = 0.0;                // on the update's input; 0 outside training
  bool has_update() const { return lora_a.defined(); }
};

// The dropout multipliers (0 or 1 / (1 - p)) for an input of `shape`, drawn exactly as
// at::dropout draws them for a tensor of `dtype` on `device`, so a fused call consumes the
// random stream as the unfused LoRA layer does. Undefined when p is 0.
at::Tensor lora_dropout_noise(at::IntArrayRef shape, double p, at::ScalarType dtype, at::Device device);

// y_i for each projection i, all reading the same x [..., in] (Q, K and V; or one projection:
// O, down, a fused qkv or gate_up). Outputs are fresh tensors (not views): in-place RoPE may
// rotate them. Autograd reaches x and every A and B. Under autocast the inputs are cast to the
// autocast dtype first, as at::linear would be.
std::vector<at::Tensor> lora_linear_group(const at::Tensor& x, const std::vector<LowRankLinear>& projections);

// The same with plain autograd ops (the unfused reference the tests compare against).
std::vector<at::Tensor> lora_linear_group_reference(const at::Tensor& x, const std::vector<LowRankLinear>& projections);

namespace lora_math {
// Pieces shared by the fused LoRA functions (the MLP's too). x2d is [N, in].
// Base + update for one projection, into a fresh [N, out] tensor. `noise`: dropout
// multipliers or undefined.
at::Tensor forward(const at::Tensor& x2d, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& a,
                   const at::Tensor& b, double scaling, const at::Tensor& noise);
// Gradients of one projection for dY [N, out]: accumulates dx into `dx` (which may be
// undefined: then it is created; `need_dx` false skips it) and returns {dA, dB} (undefined
// when the projection has no update).
std::pair<at::Tensor, at::Tensor> backward(const at::Tensor& dy, const at::Tensor& x2d, const at::Tensor& weight,
                                           const at::Tensor& a, const at::Tensor& b, double scaling,
                                           const at::Tensor& noise, bool need_dx, at::Tensor& dx);
// The dtype the math runs in: autocast's when it is on for x's device, else x's.
at::ScalarType compute_dtype(const at::Tensor& x);
// x, A, B (and the frozen tensors) in autocast's dtype when autocast is on, as at::linear
// would see them; the casts stay on the graph, so float32 A and B get float32 gradients.
struct CastInputs {
  at::Tensor x;
  std::vector<LowRankLinear> projections;
};
CastInputs cast_for_autocast(const at::Tensor& x, const std::vector<LowRankLinear>& projections);
}  // namespace lora_math

}  // namespace axl::kernels
