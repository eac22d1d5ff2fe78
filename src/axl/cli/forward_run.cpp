// The torch side of `axolotl forward`.
#include <c10/core/InferenceMode.h>

#include <optional>

#include "axl/cli/cli_adapters.h"
#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/models/causal_lm.h"
#include "axl/models/loader.h"

namespace axl::cli {

namespace {

at::Tensor int_tensor(const std::map<std::string, at::Tensor>& in, const std::string& key,
                      const std::string& file) {
  at::Tensor t = in.at(key);
  if (t.scalar_type() != at::kLong && t.scalar_type() != at::kInt)
    throw Error(file + ": tensor '" + key + "' must be int64 (found " + c10::toString(t.scalar_type()) + ")");
  if (t.dim() != 2) throw Error(file + ": tensor '" + key + "' must be [batch, seq]");
  return t.to(at::kLong);
}

void run_forward(const ForwardOptions& o) {
  apply_common_options(o.common);
  models::LoadOptions lo;
  lo.device = parse_device(o.common.device);
  lo.dtype = parse_dtype(o.common.dtype);
  auto inputs = load_safetensors(o.input);
  if (!inputs.count("input_ids")) throw Error(o.input + ": no tensor named 'input_ids'");
  at::Tensor ids = int_tensor(inputs, "input_ids", o.input);
  at::Tensor mask, labels = ids;
  if (inputs.count(o.mask_key)) {
    mask = int_tensor(inputs, o.mask_key, o.input);
  } else if (o.mask_key != "attention_mask") {
    throw Error(o.input + ": no tensor named '" + o.mask_key + "' (from --mask-key)");
  }
  if (inputs.count(o.labels_key)) {
    labels = int_tensor(inputs, o.labels_key, o.input);
  } else if (o.labels_key != "labels") {
    throw Error(o.input + ": no tensor named '" + o.labels_key + "' (from --labels-key)");
  }
  if (mask.defined() && mask.sizes() != ids.sizes())
    throw Error(o.input + ": '" + o.mask_key + "' must have the shape of input_ids");
  if (labels.sizes() != ids.sizes())
    throw Error(o.input + ": '" + o.labels_key + "' must have the shape of input_ids");

  models::CausalLM model = models::load_causal_lm(o.model, lo);
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= model.config.vocab_size))
    throw Error(o.input + ": input_ids outside the vocabulary [0, " + std::to_string(model.config.vocab_size) + ")");

  std::unique_ptr<peft::AdapterSet> adapters = load_cli_adapters(model, o.adapters);
  if (!o.grads.empty() && (!adapters || adapters->active().size() != 1))
    throw Error("--grads needs exactly one --adapter (the base weights are frozen)");
  peft::Adapter* adapter = adapters ? &adapters->get(adapters->active().front()) : nullptr;
  std::optional<c10::InferenceMode> guard;  // off when gradients are wanted
  if (o.grads.empty()) guard.emplace();
  models::ForwardInput in;
  in.input_ids = ids.to(lo.device);
  if (mask.defined()) in.attention_mask = mask.to(lo.device);
  in.output_hidden_states = o.hidden_states;
  if (o.attention == "eager") in.attention = kernels::AttentionImpl::Eager;
  else if (o.attention == "sdpa") in.attention = kernels::AttentionImpl::Sdpa;
  else if (o.attention != "auto") throw Error("--attention must be auto, eager or sdpa");
  models::ForwardOutput out = model.forward(in);

  std::map<std::string, at::Tensor> result;
  result["logits"] = out.logits.to(at::kFloat);
  at::Tensor loss = models::causal_lm_loss(out.logits, labels.to(lo.device));
  // PEFT adds a method's loss term (AdaLoRA's orthogonal regularisation) inside the forward.
  if (adapters)
    for (const auto& name : adapters->active()) {
      at::Tensor reg = adapters->get(name).regularization_loss();
      if (reg.defined()) loss = loss + reg.to(loss.scalar_type());
    }
  result["loss"] = loss.detach().to(at::kFloat).view({1});
  if (o.hidden_states) result["hidden_states"] = at::stack(out.hidden_states).to(at::kFloat);
  for (auto& [name, t] : result) t = t.detach();
  save_safetensors(o.out, result);
  if (!o.grads.empty()) {
    loss.backward();
    std::map<std::string, at::Tensor> grads;
    for (auto& [name, t] : adapter->trainable())
      grads[name] = t.grad().defined() ? t.grad().to(at::kFloat) : at::zeros_like(t, at::kFloat);
    save_safetensors(o.grads, grads);
  }
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_forward_main(const axl::cli::ForwardOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_forward(*opts); });
}
