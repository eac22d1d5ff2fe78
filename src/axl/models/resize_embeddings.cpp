#include "axl/models/resize_embeddings.h"

#include <algorithm>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"

namespace axl::models {

namespace {

// `rows` [V, H] -> `added` new rows [added, H] in float32 (transformers'
// _init_added_embeddings_weights_with_mean, or _init_weights without mean resizing).
at::Tensor new_rows(const at::Tensor& rows, int64_t added, const ResizeOptions& o, double init_range,
                    at::Generator& gen) {
  const int64_t h = rows.size(1);
  if (!o.mean_resizing) return at::empty({added, h}, at::kFloat).normal_(0.0, init_range, gen);
  const at::Tensor w = rows.detach().to(at::kCPU, at::kDouble);
  const at::Tensor mean = w.mean(0);
  const at::Tensor centered = w - mean;
  const at::Tensor cov = at::matmul(centered.t(), centered) / static_cast<double>(rows.size(0));
  // torch's positive_definite check: a Cholesky factorisation exists.
  auto [chol, info] = at::linalg_cholesky_ex(1e-9 * cov);
  at::Tensor out = mean.unsqueeze(0).expand({added, h}).clone();
  if (info.item<int64_t>() == 0) {
    at::Tensor z = at::empty({added, h}, at::kDouble).normal_(0.0, 1.0, gen);
    out = out + at::matmul(z, chol.t());
  }
  return out.to(at::kFloat);
}

at::Tensor grown(const at::Tensor& old, int64_t rows, const ResizeOptions& o, double init_range, at::Generator& gen) {
  const int64_t keep = std::min<int64_t>(old.size(0), rows);
  at::Tensor out = at::empty({rows, old.size(1)}, old.options().requires_grad(false));
  at::NoGradGuard no_grad;
  out.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
  if (rows > keep) out.narrow(0, keep, rows - keep).copy_(new_rows(old, rows - keep, o, init_range, gen));
  return out.requires_grad_(old.requires_grad());
}

}  // namespace

int64_t resize_token_embeddings(CausalLM& model, int64_t num_tokens, const ResizeOptions& options) {
  const int64_t old_rows = model.embed.size(0);
  int64_t rows = num_tokens;
  if (options.pad_to_multiple_of > 0)
    rows = (rows + options.pad_to_multiple_of - 1) / options.pad_to_multiple_of * options.pad_to_multiple_of;
  if (rows == old_rows || (rows < old_rows && !options.shrink)) return old_rows;
  if (rows <= 0) throw Error("resize_token_embeddings: the vocabulary must keep at least one row");

  const bool tied = model.lm_head.base && model.lm_head.base->dense_weight().data_ptr() == model.embed.data_ptr();
  auto* head = dynamic_cast<DenseBase*>(model.lm_head.base.get());
  if (!head)
    throw Error("resize_token_embeddings: lm_head is not a dense weight (a quantized head cannot grow); "
                "add the tokens before quantizing");
  const double init_range = 0.02;  // transformers' default initializer_range (without mean resizing)
  at::Generator gen = compat::make_cpu_generator(options.seed);
  model.embed = grown(model.embed, rows, options, init_range, gen);
  if (tied) {
    model.lm_head.base = std::make_shared<DenseBase>(model.embed);
  } else {
    model.lm_head.base = std::make_shared<DenseBase>(grown(head->weight, rows, options, init_range, gen));
    if (model.lm_head.bias.defined()) {
      const at::Tensor b = model.lm_head.bias;
      at::Tensor nb = at::empty({rows}, b.options().requires_grad(false));
      at::NoGradGuard no_grad;
      const int64_t keep = std::min<int64_t>(b.size(0), rows);
      nb.narrow(0, 0, keep).copy_(b.narrow(0, 0, keep));
      if (rows > keep) nb.narrow(0, keep, rows - keep).fill_(b.to(at::kFloat).mean().item<double>());
      model.lm_head.bias = nb.requires_grad_(b.requires_grad());
    }
  }
  model.config.vocab_size = rows;
  return rows;
}

}  // namespace axl::models
