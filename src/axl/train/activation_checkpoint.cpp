#include "axl/train/activation_checkpoint.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>
#include <optional>

#include "axl/peft/adapter.h"
#include "axl/train/offloaded_tensor.h"
#include "axl/train/precision.h"

namespace axl::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor get_rng_state(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// The generators a layer on `device` may draw from: the CPU's always (our dropout on the
// CPU, and CPU-side randomness), the device's own when it is not the CPU.
std::vector<at::Generator> generators_for(const at::Device& device) {
  std::vector<at::Generator> gens{at::detail::getDefaultCPUGenerator()};
  if (device.type() != at::kCPU) gens.push_back(at::globalContext().defaultGenerator(device));
  return gens;
}

// Puts the forward's RNG states back for the recompute, and the current ones back after it,
// so the random stream goes on as if nothing had been recomputed.
class RngReplay {
 public:
  RngReplay(std::vector<at::Generator> gens, const std::vector<at::Tensor>& forward_states) : gens_(std::move(gens)) {
    for (size_t i = 0; i < gens_.size(); ++i) {
      current_.push_back(get_rng_state(gens_[i]));
      set_rng_state(gens_[i], forward_states[i]);
    }
  }
  ~RngReplay() {
    for (size_t i = 0; i < gens_.size(); ++i) set_rng_state(gens_[i], current_[i]);
  }
  RngReplay(const RngReplay&) = delete;
  RngReplay& operator=(const RngReplay&) = delete;

 private:
  std::vector<at::Generator> gens_;
  std::vector<at::Tensor> current_;
};

// What backward needs to run the layer again; travels in the autograd context.
struct Recompute : torch::CustomClassHolder {
  models::LayerFn layer;
  std::vector<at::Tensor> trainable;
  at::Device device = at::Device(at::kCPU);
  std::vector<at::Tensor> rng_states;
  std::optional<at::ScalarType> autocast;
  bool input_requires_grad = false;
  // Offloaded checkpoints: the input waits in host memory instead of the saved tensors, and
  // the layer before this one (whose backward comes next) is fetched back while this one's runs.
  bool offload = false;
  std::shared_ptr<OffloadedTensor> offloaded, previous;
};

class CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
 public:
  // `trainable` is listed as an input only so that autograd routes its gradients; the layer
  // reaches those tensors itself.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, at::TensorList trainable,
                            c10::intrusive_ptr<Recompute> r) {
    (void)trainable;
    r->device = x.device();
    for (auto& gen : generators_for(r->device)) r->rng_states.push_back(get_rng_state(gen));
    r->autocast = current_autocast(r->device.type());
    r->input_requires_grad = x.requires_grad();
    at::Tensor y;
    {
      // A weight cast cached here (no grad mode) would carry no graph; keep the cache out.
      const bool cache = at::autocast::is_autocast_cache_enabled();
      at::autocast::set_autocast_cache_enabled(false);
      try {
        y = r->layer(x);
      } catch (...) {
        at::autocast::set_autocast_cache_enabled(cache);
        throw;
      }
      at::autocast::set_autocast_cache_enabled(cache);
    }
    if (r->offload && x.device().type() != at::kCPU) r->offloaded = std::make_shared<OffloadedTensor>(x);
    else ctx->save_for_backward({x});
    ctx->saved_data["recompute"] = c10::IValue::make_capsule(std::move(r));
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto holder = ctx->saved_data["recompute"].toCapsule();
    auto* r = static_cast<Recompute*>(holder.get());
    at::Tensor x = (r->offloaded ? r->offloaded->restore() : ctx->get_saved_variables().at(0))
                       .detach()
                       .requires_grad_(r->input_requires_grad);
    if (r->previous) r->previous->prefetch();  // overlaps this layer's recompute and backward
    at::Tensor y;
    {
      RngReplay replay(generators_for(r->device), r->rng_states);
      AutocastGuard autocast(r->device.type(), r->autocast);
      at::AutoGradMode grad_mode(true);
      y = r->layer(x);
    }
    variable_list inputs;
    if (r->input_requires_grad) inputs.push_back(x);
    for (const auto& t : r->trainable) inputs.push_back(t);
    variable_list grads = torch::autograd::grad({y}, inputs, {grad_outputs.at(0)}, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true);
    // One gradient per forward argument: x, each trainable tensor, the (non-tensor) recompute.
    variable_list out;
    size_t next = 0;
    out.push_back(r->input_requires_grad ? grads[next++] : at::Tensor());
    for (size_t i = 0; i < r->trainable.size(); ++i) out.push_back(grads[next++]);
    out.emplace_back();
    return out;
  }
};

// The layers' offloaded inputs in forward order: each checkpoint learns its predecessor's.
struct OffloadChain {
  std::shared_ptr<OffloadedTensor> last;
};

at::Tensor checkpointed_layer(const models::LayerFn& layer, const at::Tensor& x, const std::vector<at::Tensor>& trainable,
                              const std::shared_ptr<OffloadChain>& chain) {
  auto r = c10::make_intrusive<Recompute>();
  r->layer = layer;
  r->trainable = trainable;
  r->offload = chain != nullptr;
  if (chain) r->previous = chain->last;
  Recompute* raw = r.get();
  at::Tensor y = CheckpointedLayer::apply(x, at::TensorList(trainable), std::move(r));
  if (chain && raw->offloaded) chain->last = raw->offloaded;
  return y;
}

void add_if_trainable(std::vector<at::Tensor>& out, const at::Tensor& t) {
  if (t.defined() && t.requires_grad()) out.push_back(t);
}

}  // namespace

std::vector<at::Tensor> trainable_tensors(const models::DecoderLayer& layer) {
  std::vector<at::Tensor> out;
  for (const models::Norm* n : {&layer.attn_norm, &layer.mlp_norm, &layer.attn_out_norm, &layer.mlp_out_norm,
                                &layer.q_norm, &layer.k_norm}) {
    add_if_trainable(out, n->weight);
    add_if_trainable(out, n->bias);
  }
  for (const auto* s : {&layer.q, &layer.k, &layer.v, &layer.qkv, &layer.o, &layer.gate, &layer.up, &layer.gate_up,
                        &layer.down}) {
    if (!s->has_value()) continue;
    const models::LinearSlot& slot = s->value();
    // Only a dense base has a weight of its own to train (a quantized one is frozen).
    if (auto* dense = dynamic_cast<const models::DenseBase*>(slot.base.get())) add_if_trainable(out, dense->weight);
    add_if_trainable(out, slot.bias);
    for (const auto& adapter : slot.adapters)
      if (auto* layer_adapter = dynamic_cast<peft::AdapterLayer*>(adapter.get()))
        for (auto& [name, t] : layer_adapter->tensors()) add_if_trainable(out, *t);
  }
  return out;
}

at::Tensor checkpointed(const models::LayerFn& layer, const at::Tensor& x, const std::vector<at::Tensor>& trainable) {
  return checkpointed_layer(layer, x, trainable, nullptr);
}

models::LayerRunner checkpoint_every_layer(const models::CausalLM& model, bool offload) {
  const models::CausalLM* m = &model;
  std::shared_ptr<OffloadChain> chain = offload ? std::make_shared<OffloadChain>() : nullptr;
  return [m, chain](int64_t index, const at::Tensor& x, const models::LayerFn& layer,
                    const std::vector<at::Tensor>& extra_inputs) {
    if (!at::GradMode::is_enabled()) return layer(x);
    // Looked up on every call: what trains can change between runs (requires_grad_).
    std::vector<at::Tensor> trainable = trainable_tensors(m->layers[static_cast<size_t>(index)]);
    // Prefix keys/values come from the adapter's table outside the layer: explicit inputs, so
    // the recompute's gradients reach the table.
    for (const at::Tensor& t : extra_inputs) add_if_trainable(trainable, t);
    if (trainable.empty() && !x.requires_grad()) return layer(x);
    return checkpointed_layer(layer, x, trainable, chain);
  };
}

}  // namespace axl::train
