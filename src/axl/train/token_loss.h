#pragma once
// Causal-LM loss normalised over the whole accumulated batch. Each micro-batch contributes the
// SUM of its token cross-entropies (labels shifted by one, -100 ignored); the optimizer step
// divides by the number of trained tokens in all micro-batches together, so accumulating k
// micro-batches gives exactly the gradient of one batch holding them all (never a mean of
// per-micro-batch means, which over-weights short micro-batches).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "axl/models/causal_lm.h"

namespace axl::train {

// Trained tokens of a micro-batch after the causal shift: labels[:, 1:] != -100.
int64_t trained_token_count(const at::Tensor& labels);

// Summed cross-entropy (float32 or wider) of logits [B, T, V] against labels [B, T]:
// logits[:, t] predicts labels[:, t + 1]; -100 is ignored. A 0-dim tensor with autograd.
at::Tensor summed_causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);

// The same loss from final hidden states [B, T, H] and the model's head. A plain dense head
// (no adapter, bias or soft-cap; float32, bfloat16 or float64, or autocast to bfloat16) runs the chunked
// kernels::linear_cross_entropy_sum, which never holds all logits; anything else computes
// the logits with model.logits_from_hidden and calls summed_causal_lm_loss.
at::Tensor summed_causal_lm_loss_from_hidden(const models::CausalLM& model, const at::Tensor& hidden,
                                             const at::Tensor& labels);

// The step accounting: the divisor for every micro-batch's summed loss in one optimizer step.
struct AccumulationPlan {
  std::vector<int64_t> tokens_per_micro_batch;
  int64_t total_tokens = 0;
  // 1 / total_tokens, or 0 when no token is trained (the step then changes nothing).
  double loss_scale() const { return total_tokens > 0 ? 1.0 / static_cast<double>(total_tokens) : 0.0; }
};
AccumulationPlan plan_accumulation(const std::vector<at::Tensor>& micro_batch_labels);

}  // namespace axl::train
