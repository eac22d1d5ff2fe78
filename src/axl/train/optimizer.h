#pragma once
// Optimizers with the numerics of torch.optim as the Hugging Face Trainer builds them:
// AdamW (decoupled weight decay), Adam (L2 decay added to the gradient) and SGD (momentum),
// over two parameter groups (decay / no decay). `adamw_torch_fused` runs torch's own fused
// kernel (aten::_fused_adamw_, what torch.optim.AdamW(fused=True) calls), so results are
// bit-identical to Python; `adamw_torch` / `adam` / `sgd` follow torch's single-tensor
// algorithms op for op. bitsandbytes' AdamW / Lion (8-bit, 32-bit, paged; optim_bnb.h) and
// transformers' Adafactor (optim_adafactor.h) follow their CPU numerics. State (step counts,
// moments, 8-bit codes) is keyed by parameter name and saved for an exact resume.
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/train/param_groups.h"

namespace axl::train {

enum class OptimizerKind {
  AdamW, AdamWFused, Adam, SGD,
  AdamW8bit, PagedAdamW8bit, PagedAdamW32bit,  // bitsandbytes AdamW
  Lion8bit, Lion32bit, PagedLion8bit, PagedLion32bit,  // bitsandbytes Lion
  Adafactor,  // transformers Adafactor with HF Trainer's arguments
};

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::AdamWFused;
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0, dampening = 0.0;  // SGD
  bool nesterov = false;
};

// The Axolotl `optimizer:` name and hyperparameters; throws axl::Error naming the config file
// for an optimizer we do not implement.
OptimizerOptions optimizer_options_from(const config::Config& cfg);
OptimizerKind optimizer_kind_from_name(const std::string& name);  // throws axl::Error
std::string optimizer_kind_name(OptimizerKind kind);

struct ParamGroup {
  std::vector<NamedParam> params;
  double lr = 0.0;
  double weight_decay = 0.0;
  double beta1 = 0.9;  // one_cycle cycles it
};

struct ParamState {
  int64_t step = 0;
  at::Tensor exp_avg, exp_avg_sq;  // Adam family
  at::Tensor momentum_buffer;      // SGD with momentum
  // bitsandbytes 8-bit: blockwise codes (uint8) + per-block absmax of exp_avg / exp_avg_sq.
  at::Tensor exp_avg_codes, exp_avg_absmax, exp_avg_sq_codes, exp_avg_sq_absmax;
  at::Tensor exp_avg_sq_row, exp_avg_sq_col;  // Adafactor's factored second moment
};

// Bytes of optimizer state held for one parameter (all defined state tensors).
int64_t state_bytes(const ParamState& s);

class Optimizer {
 public:
  // Groups as HF does: [decayed params (weight_decay), the others (0)]; empty groups dropped.
  Optimizer(const std::vector<NamedParam>& params, const OptimizerOptions& opts);

  // Updates every parameter that has a gradient (others are left alone, as torch does).
  void step();
  void zero_grad();  // gradients set to undefined (torch's set_to_none default)

  void set_lr(double lr);
  void set_beta1(double beta1);
  double lr() const { return groups_.empty() ? options_.lr : groups_.front().lr; }

  const OptimizerOptions& options() const { return options_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  std::vector<at::Tensor> parameters() const;
  const std::map<std::string, ParamState>& state() const { return state_; }

  // `<prefix>.safetensors` (moments by `<name>.exp_avg` etc.) + `<prefix>.json` (kind,
  // hyperparameters, per-parameter step counts). Loading checks names and shapes and throws
  // axl::Error naming the file on a mismatch.
  void save(const std::string& prefix) const;
  void load(const std::string& prefix);

 private:
  void step_adam_single(const ParamGroup& g, const NamedParam& p, ParamState& s, bool decoupled);
  void step_adamw_fused(const ParamGroup& g, std::vector<const NamedParam*> params);
  void step_sgd(const ParamGroup& g, const NamedParam& p, ParamState& s);

  OptimizerOptions options_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, ParamState> state_;
};

}  // namespace axl::train
