#include "axl/kernels/linear_cross_entropy.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <stdexcept>

#include "axl/kernels/cross_entropy_cuda.h"

namespace axl::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Logits and the loss in float32 (float64 for float64 inputs: the exactness tests).
at::ScalarType loss_dtype(at::ScalarType input) { return input == at::kDouble ? at::kDouble : at::kFloat; }

struct LinearCrossEntropy : public torch::autograd::Function<LinearCrossEntropy> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                            const at::Tensor& targets, int64_t ignore_index, int64_t chunk_rows) {
    const int64_t n = hidden.size(0);
    const bool need_dh = hidden.requires_grad(), need_dw = weight.requires_grad();
    const at::ScalarType wide = loss_dtype(hidden.scalar_type());
    const at::Tensor h = hidden.contiguous();
    // Gradients are made at the GEMMs' dtype; the weight's is summed over chunks in float32.
    at::Tensor dh = need_dh ? at::empty_like(h) : at::Tensor();
    at::Tensor dw = need_dw ? at::zeros(weight.sizes(), weight.options().dtype(wide)) : at::Tensor();
    at::Tensor total = at::zeros({}, hidden.options().dtype(wide));
    const at::Tensor wt = weight.t();
    for (int64_t start = 0; start < n; start += chunk_rows) {
      const int64_t rows = std::min(chunk_rows, n - start);
      const at::Tensor hc = h.narrow(0, start, rows);
      const at::Tensor tc = targets.narrow(0, start, rows);
      at::Tensor logits = at::mm(hc, wt);  // [rows, V] in the GEMM's dtype, ours to overwrite
      at::Tensor g;                          // d loss / d logits, in the weight's dtype
      if (cuda::cross_entropy_uses_kernel(logits, tc)) {
        // The CUDA kernel reads the logits as they are (no float32 copy) and writes the
        // gradient over them.
        const cuda::CrossEntropyForward f = cuda::cross_entropy_forward(logits, tc, ignore_index, false);
        total.add_(f.loss);
        if (!need_dh && !need_dw) continue;
        g = cuda::cross_entropy_backward(logits, tc, f.lse, at::ones({}, f.loss.options()), ignore_index,
                                         /*in_place=*/true)
                .to(weight.scalar_type());
      } else {
        logits = logits.to(wide);
        const at::Tensor valid = tc.ne(ignore_index);
        const at::Tensor safe = at::where(valid, tc, at::zeros_like(tc)).unsqueeze(1);
        const at::Tensor lse = at::logsumexp(logits, 1, /*keepdim=*/true);
        const at::Tensor picked = logits.gather(1, safe);
        total.add_((lse - picked).squeeze(1).mul(valid).sum());
        if (!need_dh && !need_dw) continue;
        // d loss / d logits = softmax - one_hot(target), zero on ignored rows; in place.
        at::Tensor grad = logits.sub_(lse).exp_();
        grad.scatter_add_(1, safe, at::full({rows, 1}, -1.0, grad.options()));
        grad.mul_(valid.unsqueeze(1));
        g = grad.to(weight.scalar_type());
      }
      if (need_dh) {
        at::Tensor out = dh.narrow(0, start, rows);
        at::mm_out(out, g, weight);
      }
      if (need_dw) dw.add_(at::mm(g.t(), hc));
    }
    ctx->saved_data["dh"] = dh;
    ctx->saved_data["dw"] = dw;
    ctx->saved_data["w_dtype"] = weight.scalar_type();
    return total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const at::Tensor go = grad_out[0];
    at::Tensor dh = ctx->saved_data["dh"].toTensor();
    at::Tensor dw = ctx->saved_data["dw"].toTensor();
    // The incoming gradient is a scalar (1/tokens, times a loss scale): scale what forward made.
    if (dh.defined()) dh = dh.mul(go.to(dh.scalar_type()));
    if (dw.defined()) dw = dw.mul_(go).to(ctx->saved_data["w_dtype"].toScalarType());
    return {dh, dw, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool linear_cross_entropy_supports(at::ScalarType dtype) {
  return dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kDouble;
}

at::Tensor linear_cross_entropy_sum(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                    int64_t ignore_index, int64_t chunk_rows) {
  if (hidden.dim() != 2 || weight.dim() != 2 || targets.dim() != 1 || hidden.size(1) != weight.size(1) ||
      hidden.size(0) != targets.size(0) || hidden.scalar_type() != weight.scalar_type())
    throw std::invalid_argument("linear_cross_entropy_sum: hidden [N, H], weight [V, H] (same dtype), targets [N]");
  if (!linear_cross_entropy_supports(hidden.scalar_type()))
    throw std::invalid_argument("linear_cross_entropy_sum: float32, bfloat16 or float64 only");
  if (chunk_rows <= 0) chunk_rows = std::max<int64_t>(1, (int64_t{1} << 24) / std::max<int64_t>(1, weight.size(0)));
  const at::Tensor t = targets.to(at::kLong).contiguous();
  cuda::check_targets_in_vocab(t, weight.size(0), ignore_index);  // once here, not per chunk
  // Rows whose target is ignored (prompt tokens without train_on_inputs, padding) add nothing
  // to the loss or the gradients: the head's GEMMs skip them. index_select's backward gives
  // them zero gradient rows.
  const at::Tensor keep = t.ne(ignore_index);
  const int64_t kept = keep.sum().item<int64_t>();
  if (kept == t.size(0)) return LinearCrossEntropy::apply(hidden, weight, t, ignore_index, chunk_rows);
  const at::Tensor rows = keep.nonzero().squeeze(1);
  return LinearCrossEntropy::apply(hidden.index_select(0, rows), weight, t.index_select(0, rows), ignore_index,
                                   chunk_rows);
}

at::Tensor linear_cross_entropy_sum_reference(const at::Tensor& hidden, const at::Tensor& weight,
                                              const at::Tensor& targets, int64_t ignore_index) {
  at::Tensor logits = at::linear(hidden, weight).to(loss_dtype(hidden.scalar_type()));
  return at::cross_entropy_loss(logits, targets.to(at::kLong), {}, at::Reduction::Sum, ignore_index);
}

}  // namespace axl::kernels
