#pragma once
// One optimizer step of causal-LM training, the loop body the `train` command will call:
// forward/loss/backward over the micro-batches (token-sum normalised over all of them),
// optional fp16 unscaling, clipping, the optimizer step at the schedule's rate, zeroed
// gradients, and the numbers to log. The trainable parameters are the optimizer's.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "axl/models/causal_lm.h"
#include "axl/train/loss_scaler.h"
#include "axl/train/lr_schedule.h"
#include "axl/train/optimizer.h"
#include "axl/train/train_state.h"

namespace axl::train {

struct MicroBatch {
  at::Tensor input_ids;       // [B, T] int64
  at::Tensor labels;          // [B, T] int64, -100 = not trained (unshifted, as HF's)
  at::Tensor attention_mask;  // [B, T]; optional
  // Packed rows (sample_packing; B = 1): positions restart at 0 for each sample, and
  // cu_seqlens (int32 [S+1], flash-attn's varlen layout) keeps attention inside a sample.
  // Undefined when unpacked.
  // (`{}`: brace-initialised batches may leave them out without a warning.)
  at::Tensor position_ids{};  // [B, T] int64
  at::Tensor cu_seqlens{};    // [S+1] int32
};

struct StepOptions {
  double max_grad_norm = 1.0;  // <= 0: no clipping (the norm is still reported)
  kernels::AttentionImpl attention = kernels::AttentionImpl::Auto;
  LossScaler* scaler = nullptr;  // fp16: dynamic loss scaling, overflowing steps are skipped
  // bf16/fp16: the forward runs under autocast of this dtype (precision.h); the loss is float32.
  std::optional<at::ScalarType> autocast;
  bool gradient_checkpointing = false;  // recompute each decoder layer in backward
  // With gradient_checkpointing: keep each layer's input in pinned host memory until backward
  // (`gradient_checkpointing: offload`; CUDA only, plain checkpointing on the CPU).
  bool offload_checkpoints = false;
  // The fused autograd functions the forward uses (train/fused_ops_setting.h picks them).
  kernels::FusedOps fused;
  // The loss from hidden states in chunks (kernels/linear_cross_entropy.h) where the head
  // allows; false: full logits, then the loss (the benchmark's plain path).
  bool chunked_loss = true;
  // The adapter's loss term (AdaLoRA's orthogonal regularisation), added to each micro-batch's
  // loss divided by the number of micro-batches; returns undefined for none.
  std::function<at::Tensor()> regularization;
  // After optimizer.step(), before the gradients are zeroed (AdaLoRA's rank allocator); gets
  // the global step just taken, counting from 1.
  std::function<void(int64_t global_step)> after_optimizer_step;
};

struct StepResult {
  int64_t step = 0;          // the global step this was (0-based, before the increment)
  double loss = 0.0;         // token mean over the whole accumulated batch
  double grad_norm = 0.0;    // before clipping
  double learning_rate = 0.0;
  int64_t trained_tokens = 0;
  int64_t input_tokens = 0;
  bool skipped = false;      // fp16 overflow: no optimizer step was taken
};

// Throws TrainingError (naming the 1-based step being taken, as the log lines count them; no
// step applied, gradients zeroed) when, without a loss scaler, the
// loss of a micro-batch or the gradient norm is not finite. With a scaler, state.loss_scale
// and state.loss_scale_growth_tracker follow the scaler's (for checkpoints).
StepResult train_step(const models::CausalLM& model, Optimizer& optimizer, const LrSchedule* schedule,
                      TrainState& state, const std::vector<MicroBatch>& micro_batches,
                      const StepOptions& options = {});

}  // namespace axl::train
