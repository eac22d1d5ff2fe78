#include "axl/train/token_loss.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>

#include "axl/kernels/linear_cross_entropy.h"

namespace axl::train {

int64_t trained_token_count(const at::Tensor& labels) {
  if (labels.dim() != 2 || labels.size(1) < 2) return 0;
  return labels.narrow(1, 1, labels.size(1) - 1).ne(-100).sum().item<int64_t>();
}

at::Tensor summed_causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels_in) {
  const at::Tensor labels =
      logits.dim() == 3 ? models::pad_labels_for_virtual_tokens(labels_in, logits.size(1)) : labels_in;
  if (logits.dim() != 3 || labels.dim() != 2 || logits.size(0) != labels.size(0) ||
      logits.size(1) != labels.size(1))
    throw std::invalid_argument("summed_causal_lm_loss: logits [B, T, V] and labels [B, T] disagree");
  const int64_t t = logits.size(1);
  const int64_t vocab = logits.size(2);
  if (t < 2) return logits.sum() * 0;  // nothing to predict, but keep the graph
  at::Tensor shifted = logits.narrow(1, 0, t - 1).reshape({-1, vocab});
  // Half-precision logits are upcast, as transformers does before its loss.
  if (shifted.scalar_type() != at::kDouble) shifted = shifted.to(at::kFloat);
  at::Tensor targets = labels.narrow(1, 1, t - 1).reshape({-1}).to(logits.device());
  return at::cross_entropy_loss(shifted, targets, {}, at::Reduction::Sum, -100);
}

at::Tensor summed_causal_lm_loss_from_hidden(const models::CausalLM& model, const at::Tensor& hidden,
                                             const at::Tensor& labels_in) {
  const at::Tensor labels =
      hidden.dim() == 3 ? models::pad_labels_for_virtual_tokens(labels_in, hidden.size(1)) : labels_in;
  const models::LinearSlot& head = model.lm_head;
  const auto* dense = dynamic_cast<const models::DenseBase*>(head.base.get());
  // Under autocast the head's GEMM would run in autocast's dtype: the chunked loss gets its
  // inputs cast to it (the casts stay on the graph), so bf16 training keeps the chunked path.
  const at::DeviceType dev = hidden.device().type();
  const bool autocast = at::autocast::is_autocast_enabled(dev) && hidden.scalar_type() != at::kDouble;
  const at::ScalarType gemm_dtype = autocast ? at::autocast::get_autocast_dtype(dev) : hidden.scalar_type();
  const bool plain_head = dense != nullptr && head.adapters.empty() && !head.bias.defined() &&
                          model.config.final_softcap == 0.0 &&
                          (autocast || dense->weight.scalar_type() == hidden.scalar_type()) &&
                          kernels::linear_cross_entropy_supports(gemm_dtype);
  if (!plain_head || hidden.dim() != 3 || labels.dim() != 2 || hidden.size(1) < 2)
    return summed_causal_lm_loss(model.logits_from_hidden(hidden), labels);
  if (hidden.size(0) != labels.size(0) || hidden.size(1) != labels.size(1))
    throw std::invalid_argument("summed_causal_lm_loss_from_hidden: hidden [B, T, H] and labels [B, T] disagree");
  // The last position predicts nothing: leave it out of the head's GEMMs.
  const int64_t t = hidden.size(1);
  at::Tensor h = hidden.narrow(1, 0, t - 1).reshape({-1, hidden.size(2)});
  at::Tensor targets = labels.narrow(1, 1, t - 1).reshape({-1}).to(hidden.device());
  return kernels::linear_cross_entropy_sum(h.to(gemm_dtype), dense->weight.to(gemm_dtype), targets, -100);
}

AccumulationPlan plan_accumulation(const std::vector<at::Tensor>& micro_batch_labels) {
  AccumulationPlan plan;
  for (const auto& labels : micro_batch_labels) {
    plan.tokens_per_micro_batch.push_back(trained_token_count(labels));
    plan.total_tokens += plan.tokens_per_micro_batch.back();
  }
  return plan;
}

}  // namespace axl::train
