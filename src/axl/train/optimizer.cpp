#include "axl/train/optimizer.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/train/optim_8bit_state.h"
#include "axl/train/optim_adafactor.h"
#include "axl/train/optim_bnb.h"

namespace axl::train {

OptimizerKind optimizer_kind_from_name(const std::string& name) {
  if (name == "adamw_torch_fused") return OptimizerKind::AdamWFused;
  if (name == "adamw_torch" || name == "adamw_hf") return OptimizerKind::AdamW;
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "sgd") return OptimizerKind::SGD;
  if (name == "adamw_bnb_8bit" || name == "adamw_8bit") return OptimizerKind::AdamW8bit;
  if (name == "paged_adamw_8bit") return OptimizerKind::PagedAdamW8bit;
  if (name == "paged_adamw_32bit") return OptimizerKind::PagedAdamW32bit;
  if (name == "lion_8bit") return OptimizerKind::Lion8bit;
  if (name == "lion_32bit") return OptimizerKind::Lion32bit;
  if (name == "paged_lion_8bit") return OptimizerKind::PagedLion8bit;
  if (name == "paged_lion_32bit") return OptimizerKind::PagedLion32bit;
  if (name == "adafactor") return OptimizerKind::Adafactor;
  throw axl::Error("optimizer '" + name +
                   "' is not supported yet (use adamw_torch_fused, adamw_torch, adam, sgd, adamw_bnb_8bit, "
                   "adamw_8bit, paged_adamw_8bit, paged_adamw_32bit, lion_8bit, lion_32bit, paged_lion_8bit, "
                   "paged_lion_32bit or adafactor)");
}

std::string optimizer_kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::AdamWFused: return "adamw_torch_fused";
    case OptimizerKind::AdamW: return "adamw_torch";
    case OptimizerKind::Adam: return "adam";
    case OptimizerKind::SGD: return "sgd";
    case OptimizerKind::AdamW8bit: return "adamw_bnb_8bit";
    case OptimizerKind::PagedAdamW8bit: return "paged_adamw_8bit";
    case OptimizerKind::PagedAdamW32bit: return "paged_adamw_32bit";
    case OptimizerKind::Lion8bit: return "lion_8bit";
    case OptimizerKind::Lion32bit: return "lion_32bit";
    case OptimizerKind::PagedLion8bit: return "paged_lion_8bit";
    case OptimizerKind::PagedLion32bit: return "paged_lion_32bit";
    case OptimizerKind::Adafactor: return "adafactor";
  }
  return "?";
}

namespace {

bool is_bnb_adam(OptimizerKind k) {
  return k == OptimizerKind::AdamW8bit || k == OptimizerKind::PagedAdamW8bit || k == OptimizerKind::PagedAdamW32bit;
}
bool is_bnb_lion(OptimizerKind k) {
  return k == OptimizerKind::Lion8bit || k == OptimizerKind::Lion32bit || k == OptimizerKind::PagedLion8bit ||
         k == OptimizerKind::PagedLion32bit;
}
bool is_8bit(OptimizerKind k) {
  return k == OptimizerKind::AdamW8bit || k == OptimizerKind::PagedAdamW8bit || k == OptimizerKind::Lion8bit ||
         k == OptimizerKind::PagedLion8bit;
}
bool is_paged(OptimizerKind k) {
  return k == OptimizerKind::PagedAdamW8bit || k == OptimizerKind::PagedAdamW32bit ||
         k == OptimizerKind::PagedLion8bit || k == OptimizerKind::PagedLion32bit;
}
// bitsandbytes and transformers' Adafactor keep float32 states whatever the parameter dtype.
bool has_fp32_states(OptimizerKind k) { return is_bnb_adam(k) || is_bnb_lion(k) || k == OptimizerKind::Adafactor; }

}  // namespace

int64_t state_bytes(const ParamState& s) {
  int64_t n = 0;
  for (const at::Tensor* t : {&s.exp_avg, &s.exp_avg_sq, &s.momentum_buffer, &s.exp_avg_codes, &s.exp_avg_absmax,
                              &s.exp_avg_sq_codes, &s.exp_avg_sq_absmax, &s.exp_avg_sq_row, &s.exp_avg_sq_col})
    if (t->defined()) n += static_cast<int64_t>(t->nbytes());
  return n;
}

OptimizerOptions optimizer_options_from(const config::Config& cfg) {
  OptimizerOptions o;
  try {
    o.kind = optimizer_kind_from_name(cfg.optimizer);
  } catch (const axl::Error& e) {
    throw axl::Error(cfg.source_file + ": " + e.what());
  }
  o.lr = cfg.learning_rate;
  o.beta1 = cfg.adam_beta1;
  o.beta2 = cfg.adam_beta2;
  o.eps = cfg.adam_epsilon;
  o.weight_decay = cfg.weight_decay;
  return o;
}

Optimizer::Optimizer(const std::vector<NamedParam>& params, const OptimizerOptions& opts)
    : options_(opts) {
  ParamGroup decay, no_decay;
  decay.weight_decay = opts.weight_decay;
  for (ParamGroup* g : {&decay, &no_decay}) {
    g->lr = opts.lr;
    g->beta1 = opts.beta1;
  }
  for (const auto& p : params) {
    if (state_.count(p.name)) throw std::logic_error("optimizer: duplicate parameter " + p.name);
    state_[p.name] = ParamState{};
    (p.decay ? decay : no_decay).params.push_back(p);
  }
  for (ParamGroup* g : {&decay, &no_decay})
    if (!g->params.empty()) groups_.push_back(std::move(*g));
}

std::vector<at::Tensor> Optimizer::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& g : groups_)
    for (const auto& p : g.params) out.push_back(p.tensor);
  return out;
}

void Optimizer::set_lr(double lr) {
  for (auto& g : groups_) g.lr = lr;
}

void Optimizer::set_beta1(double beta1) {
  for (auto& g : groups_) g.beta1 = beta1;
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params)
      if (p.tensor.grad().defined()) p.tensor.mutable_grad() = at::Tensor();
}

void Optimizer::step() {
  at::NoGradGuard no_grad;
  for (const auto& g : groups_) {
    std::vector<const NamedParam*> fused;
    for (const auto& p : g.params) {
      if (!p.tensor.grad().defined()) continue;
      ParamState& s = state_.at(p.name);
      switch (options_.kind) {
        case OptimizerKind::AdamWFused: fused.push_back(&p); break;
        case OptimizerKind::AdamW: step_adam_single(g, p, s, true); break;
        case OptimizerKind::Adam: step_adam_single(g, p, s, false); break;
        case OptimizerKind::SGD: step_sgd(g, p, s); break;
        case OptimizerKind::AdamW8bit:
        case OptimizerKind::PagedAdamW8bit:
        case OptimizerKind::PagedAdamW32bit:
        case OptimizerKind::Lion8bit:
        case OptimizerKind::Lion32bit:
        case OptimizerKind::PagedLion8bit:
        case OptimizerKind::PagedLion32bit: {
          const BnbHyper h{g.lr, g.beta1, options_.beta2, options_.eps, g.weight_decay};
          bnb_step(is_bnb_adam(options_.kind) ? BnbAlgorithm::Adam : BnbAlgorithm::Lion, is_8bit(options_.kind),
                   is_paged(options_.kind), h, p.name, p.tensor, s);
          break;
        }
        case OptimizerKind::Adafactor: {
          AdafactorHyper h;
          h.lr = g.lr;
          h.weight_decay = g.weight_decay;
          adafactor_step(h, p.tensor, s);
          break;
        }
      }
    }
    if (!fused.empty()) step_adamw_fused(g, fused);
  }
}

// torch.optim.Adam(W)'s single-tensor path (the CPU default), op for op.
void Optimizer::step_adam_single(const ParamGroup& g, const NamedParam& p, ParamState& s,
                                 bool decoupled) {
  at::Tensor param = p.tensor;
  at::Tensor grad = p.tensor.grad();
  if (!s.exp_avg.defined()) {
    s.exp_avg = at::zeros_like(param, at::MemoryFormat::Preserve);
    s.exp_avg_sq = at::zeros_like(param, at::MemoryFormat::Preserve);
  }
  s.step += 1;
  if (g.weight_decay != 0) {
    if (decoupled)
      param.mul_(1 - g.lr * g.weight_decay);
    else
      grad = grad.add(param, g.weight_decay);
  }
  s.exp_avg.lerp_(grad, 1 - g.beta1);
  s.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1 - options_.beta2);
  // torch keeps the step in a float32 tensor and reads it back as a Python float.
  const double step = static_cast<double>(static_cast<float>(s.step));
  const double bias_correction1 = 1 - std::pow(g.beta1, step);
  const double bias_correction2 = 1 - std::pow(options_.beta2, step);
  const double step_size = g.lr / bias_correction1;
  const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
  at::Tensor denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(options_.eps);
  param.addcdiv_(s.exp_avg, denom, -step_size);
}

// What torch.optim.AdamW(fused=True) runs: its step counters are incremented first, then the
// fused kernel reads them. Tensors of one call must share device and dtype.
void Optimizer::step_adamw_fused(const ParamGroup& g, std::vector<const NamedParam*> params) {
  while (!params.empty()) {
    const at::Device device = params.front()->tensor.device();
    const at::ScalarType dtype = params.front()->tensor.scalar_type();
    std::vector<at::Tensor> ps, grads, m, v, steps;
    std::vector<const NamedParam*> rest;
    for (const NamedParam* p : params) {
      if (p->tensor.device() != device || p->tensor.scalar_type() != dtype) {
        rest.push_back(p);
        continue;
      }
      ParamState& s = state_.at(p->name);
      if (!s.exp_avg.defined()) {
        s.exp_avg = at::zeros_like(p->tensor, at::MemoryFormat::Preserve);
        s.exp_avg_sq = at::zeros_like(p->tensor, at::MemoryFormat::Preserve);
      }
      s.step += 1;
      ps.push_back(p->tensor);
      grads.push_back(p->tensor.grad());
      m.push_back(s.exp_avg);
      v.push_back(s.exp_avg_sq);
      steps.push_back(at::full({}, static_cast<double>(s.step),
                               at::TensorOptions().dtype(at::kFloat).device(device)));
    }
    at::_fused_adamw_(ps, grads, m, v, {}, steps, g.lr, g.beta1, options_.beta2, g.weight_decay,
                      options_.eps, /*amsgrad=*/false, /*maximize=*/false);
    params = std::move(rest);
  }
}

// torch.optim.SGD's single-tensor path.
void Optimizer::step_sgd(const ParamGroup& g, const NamedParam& p, ParamState& s) {
  at::Tensor grad = p.tensor.grad();
  if (g.weight_decay != 0) grad = grad.add(p.tensor, g.weight_decay);
  if (options_.momentum != 0) {
    if (!s.momentum_buffer.defined())
      s.momentum_buffer = grad.clone().detach();
    else
      s.momentum_buffer.mul_(options_.momentum).add_(grad, 1 - options_.dampening);
    grad = options_.nesterov ? grad.add(s.momentum_buffer, options_.momentum) : s.momentum_buffer;
  }
  s.step += 1;
  p.tensor.add_(grad, -g.lr);
}

void Optimizer::save(const std::string& prefix) const {
  std::map<std::string, at::Tensor> tensors;
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [name, s] : state_) {
    steps[name] = s.step;
    if (s.exp_avg.defined()) tensors[name + ".exp_avg"] = s.exp_avg;
    if (s.exp_avg_sq.defined()) tensors[name + ".exp_avg_sq"] = s.exp_avg_sq;
    if (s.momentum_buffer.defined()) tensors[name + ".momentum_buffer"] = s.momentum_buffer;
    if (s.exp_avg_codes.defined()) tensors[name + ".exp_avg_codes"] = s.exp_avg_codes;
    if (s.exp_avg_absmax.defined()) tensors[name + ".exp_avg_absmax"] = s.exp_avg_absmax;
    if (s.exp_avg_sq_codes.defined()) tensors[name + ".exp_avg_sq_codes"] = s.exp_avg_sq_codes;
    if (s.exp_avg_sq_absmax.defined()) tensors[name + ".exp_avg_sq_absmax"] = s.exp_avg_sq_absmax;
    if (s.exp_avg_sq_row.defined()) tensors[name + ".exp_avg_sq_row"] = s.exp_avg_sq_row;
    if (s.exp_avg_sq_col.defined()) tensors[name + ".exp_avg_sq_col"] = s.exp_avg_sq_col;
  }
  nlohmann::json j = {{"optimizer", optimizer_kind_name(options_.kind)},
                      {"lr", lr()},
                      {"beta1", groups_.empty() ? options_.beta1 : groups_.front().beta1},
                      {"beta2", options_.beta2},
                      {"eps", options_.eps},
                      {"weight_decay", options_.weight_decay},
                      {"momentum", options_.momentum},
                      {"steps", steps}};
  save_safetensors(prefix + ".safetensors", tensors);
  write_file_atomic(prefix + ".json", j.dump(2) + "\n");
}

void Optimizer::load(const std::string& prefix) {
  const std::string json_path = prefix + ".json", st_path = prefix + ".safetensors";
  nlohmann::json j = read_json_file(json_path);
  auto tensors = load_safetensors(st_path);
  if (j.value("optimizer", "") != optimizer_kind_name(options_.kind))
    throw axl::Error(json_path + ": optimizer state is for '" + j.value("optimizer", "") +
                     "', the run uses '" + optimizer_kind_name(options_.kind) + "'");
  const auto& steps = j.at("steps");
  for (auto& g : groups_) {
    for (auto& p : g.params) {
      if (!steps.contains(p.name))
        throw axl::Error(json_path + ": no optimizer state for parameter " + p.name);
      ParamState s;
      s.step = steps.at(p.name).get<int64_t>();
      // Paged optimizers keep their states in host memory.
      const at::Device state_device = is_paged(options_.kind) ? at::Device(at::kCPU) : p.tensor.device();
      const at::ScalarType moment_dtype = has_fp32_states(options_.kind) ? at::kFloat : p.tensor.scalar_type();
      auto take_as = [&](const char* what, at::IntArrayRef shape, at::ScalarType dtype) -> at::Tensor {
        auto it = tensors.find(p.name + what);
        if (it == tensors.end()) return at::Tensor();
        if (it->second.sizes() != shape)
          throw axl::Error(st_path + ": " + p.name + what + " has the wrong shape");
        if (dtype == at::kByte && it->second.scalar_type() != at::kByte)
          throw axl::Error(st_path + ": " + p.name + what + " must be uint8 codes");
        // Copies: the mapped file is read-only and the state is updated in place.
        at::Tensor t = it->second.to(state_device, dtype, false, true);
        return is_paged(options_.kind) && p.tensor.is_cuda() ? t.pin_memory() : t;
      };
      auto take = [&](const char* what) { return take_as(what, p.tensor.sizes(), moment_dtype); };
      s.exp_avg = take(".exp_avg");
      s.exp_avg_sq = take(".exp_avg_sq");
      s.momentum_buffer = take(".momentum_buffer");
      const std::vector<int64_t> blocks = {state_blocks(p.tensor.numel())};
      s.exp_avg_codes = take_as(".exp_avg_codes", p.tensor.sizes(), at::kByte);
      s.exp_avg_absmax = take_as(".exp_avg_absmax", blocks, at::kFloat);
      s.exp_avg_sq_codes = take_as(".exp_avg_sq_codes", p.tensor.sizes(), at::kByte);
      s.exp_avg_sq_absmax = take_as(".exp_avg_sq_absmax", blocks, at::kFloat);
      if (p.tensor.dim() >= 2) {
        const auto sz = p.tensor.sizes();
        std::vector<int64_t> row(sz.begin(), sz.end() - 1), col(sz.begin(), sz.end() - 2);
        col.push_back(sz.back());
        s.exp_avg_sq_row = take_as(".exp_avg_sq_row", row, at::kFloat);
        s.exp_avg_sq_col = take_as(".exp_avg_sq_col", col, at::kFloat);
      }
      if (s.exp_avg_codes.defined() != s.exp_avg_absmax.defined() ||
          s.exp_avg_sq_codes.defined() != s.exp_avg_sq_absmax.defined())
        throw axl::Error(st_path + ": " + p.name + ": 8-bit state needs both codes and absmax");
      state_[p.name] = s;
    }
  }
  if (j.contains("lr")) set_lr(j.at("lr").get<double>());
  if (j.contains("beta1")) set_beta1(j.at("beta1").get<double>());
}

}  // namespace axl::train
