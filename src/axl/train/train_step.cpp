#include "axl/train/train_step.h"

#include <cmath>

#include "axl/train/activation_checkpoint.h"
#include "axl/train/grad_clip.h"
#include "axl/train/precision.h"
#include "axl/train/token_loss.h"
#include "axl/train/training_error.h"

namespace axl::train {

StepResult train_step(const models::CausalLM& model, Optimizer& optimizer, const LrSchedule* schedule,
                      TrainState& state, const std::vector<MicroBatch>& micro_batches,
                      const StepOptions& options) {
  StepResult r;
  r.step = state.global_step;
  if (schedule) {
    optimizer.set_lr(schedule->lr(state.scheduler_steps));
    if (auto b1 = schedule->beta1(state.scheduler_steps)) optimizer.set_beta1(*b1);
  }
  r.learning_rate = optimizer.lr();

  std::vector<at::Tensor> labels;
  for (const auto& mb : micro_batches) labels.push_back(mb.labels);
  const AccumulationPlan plan = plan_accumulation(labels);
  r.trained_tokens = plan.total_tokens;
  // Dividing each summed loss by the total (not multiplying by 1/total) rounds exactly as
  // `loss_sum / num_items_in_batch` does in Python.
  const double divisor = static_cast<double>(std::max<int64_t>(plan.total_tokens, 1));

  std::vector<at::Tensor> micro_losses;
  for (size_t i = 0; i < micro_batches.size(); ++i) {
    const MicroBatch& mb = micro_batches[i];
    models::ForwardInput in;
    in.input_ids = mb.input_ids;
    // A packed row's padding is a segment of its own: cu_seqlens alone keeps it apart.
    if (!mb.cu_seqlens.defined()) in.attention_mask = mb.attention_mask;
    in.position_ids = mb.position_ids;
    in.cu_seqlens = mb.cu_seqlens;
    in.attention = options.attention;
    if (options.gradient_checkpointing) in.layer_runner = checkpoint_every_layer(model, options.offload_checkpoints);
    in.fused = options.fused;
    at::Tensor loss;
    {
      AutocastGuard autocast(mb.input_ids.device().type(), options.autocast);
      // From the hidden states: a plain head gets the chunked loss (never all logits at once).
      const at::Tensor hidden = model.hidden(in);
      loss = (options.chunked_loss ? summed_causal_lm_loss_from_hidden(model, hidden, mb.labels)
                                   : summed_causal_lm_loss(model.logits_from_hidden(hidden), mb.labels)) /
             divisor;
      if (options.regularization) {
        at::Tensor reg = options.regularization();
        if (reg.defined()) loss = loss + reg.to(loss.scalar_type()) / static_cast<double>(micro_batches.size());
      }
    }
    (options.scaler ? options.scaler->scale_loss(loss) : loss).backward();
    micro_losses.push_back(loss.detach());
    r.input_tokens += mb.attention_mask.defined() ? mb.attention_mask.sum().item<int64_t>()
                                                  : mb.input_ids.numel();
    state.micro_step = static_cast<int64_t>(i) + 1;
  }

  // One host sync for all micro-batch losses.
  at::Tensor losses = micro_losses.empty() ? at::zeros({0}, at::kDouble)
                                           : at::stack(micro_losses).to(at::kCPU, at::kDouble);
  r.loss = losses.sum().item<double>();
  auto fail = [&](const std::string& what, int64_t micro) {
    optimizer.zero_grad();
    state.micro_step = 0;
    throw TrainingError(what, r.step + 1, micro);  // 1-based, as the log lines count steps
  };
  if (!options.scaler) {
    for (int64_t i = 0; i < losses.numel(); ++i)
      if (!std::isfinite(losses[i].item<double>()))
        fail("the loss is " + std::to_string(losses[i].item<double>()) +
                 " (lower the learning rate, or check this batch's data)", i);
  }

  const std::vector<at::Tensor> params = optimizer.parameters();
  bool found_inf = options.scaler ? options.scaler->unscale(params) : false;
  r.grad_norm = clip_grad_norm(params, options.max_grad_norm).item<double>();
  if (!std::isfinite(r.grad_norm)) {
    if (!options.scaler) fail("the gradient norm is " + std::to_string(r.grad_norm), -1);
    found_inf = true;
  }
  r.skipped = found_inf;
  if (!found_inf) {
    optimizer.step();
    if (options.after_optimizer_step) options.after_optimizer_step(state.global_step + 1);
  }
  if (options.scaler) {
    options.scaler->update(found_inf);
    state.loss_scale = options.scaler->scale();
    state.loss_scale_growth_tracker = options.scaler->growth_tracker();
  }
  optimizer.zero_grad();

  if (!r.skipped) ++state.scheduler_steps;
  ++state.global_step;
  state.micro_step = 0;
  state.num_input_tokens_seen += r.input_tokens;
  nlohmann::json entry = {{"loss", r.loss}, {"learning_rate", r.learning_rate},
                          {"step", state.global_step}, {"epoch", state.epoch}};
  entry["grad_norm"] = std::isfinite(r.grad_norm) ? nlohmann::json(r.grad_norm) : nlohmann::json(nullptr);
  state.log_history.push_back(entry);
  return r;
}

}  // namespace axl::train
