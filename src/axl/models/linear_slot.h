#pragma once
// The seam between the decoder and PEFT / quantization. Every projection in the decoder is a
// LinearSlot: a frozen base (a dense weight here, a quantized one from quant/) plus a stack
// of adapters (from peft/). The decoder only calls slot.forward(x); it never knows what is
// plugged in, and adapters never know which model family they sit in.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "axl/kernels/lora_linear_function.h"

namespace axl::models {

class SlotBase {
 public:
  virtual ~SlotBase() = default;
  virtual at::Tensor forward(const at::Tensor& x) const = 0;  // x W^T, without the bias
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  // The weight as a dense [out, in] tensor (dequantised if need be), for merges and exports.
  virtual at::Tensor dense_weight() const = 0;
};

class DenseBase : public SlotBase {
 public:
  explicit DenseBase(at::Tensor weight) : weight(std::move(weight)) {}
  at::Tensor forward(const at::Tensor& x) const override { return at::linear(x, weight); }
  int64_t in_features() const override { return weight.size(1); }
  int64_t out_features() const override { return weight.size(0); }
  at::Tensor dense_weight() const override { return weight; }
  at::Tensor weight;  // [out, in]
};

struct LinearSlot;

// A single low-rank update on a slot's output: + scaling * B (A dropout(x)). What a plain LoRA
// layer reports so the decoder may run the slot inside a fused function.
struct LowRankUpdate {
  at::Tensor a, b;  // [r, in], [out, r]
  double scaling = 1.0;
  double dropout = 0.0;  // 0 outside training
};

// An adapter wraps the slot's computation: `base(x')` runs the base and the bias on whatever
// input the adapter chooses (IA3 scales inputs, LoRA adds to the output, DoRA rescales it).
class SlotAdapter {
 public:
  using BaseFn = std::function<at::Tensor(const at::Tensor&)>;
  virtual ~SlotAdapter() = default;
  virtual at::Tensor forward(const at::Tensor& x, const LinearSlot& slot, const BaseFn& base) = 0;
  // Set only by an adapter whose forward is exactly base(x) + LowRankUpdate (plain LoRA);
  // DoRA, IA3 and the rest keep nullopt and the slot's own forward.
  virtual std::optional<LowRankUpdate> low_rank_update() const { return std::nullopt; }
};

struct LinearSlot {
  std::string name;  // the Hugging Face module path, e.g. model.layers.0.self_attn.q_proj
  std::shared_ptr<SlotBase> base;
  at::Tensor bias;   // undefined when the projection has none
  std::vector<std::shared_ptr<SlotAdapter>> adapters;  // applied innermost first

  at::Tensor forward_base(const at::Tensor& x) const {
    at::Tensor y = base->forward(x);
    return bias.defined() ? y + bias : y;
  }
  at::Tensor forward(const at::Tensor& x) const {
    if (adapters.empty()) return forward_base(x);
    return forward_from(x, adapters.size());
  }
  // The slot as "frozen base + at most one low-rank update", for the fused functions
  // (kernels/lora_linear_function.h); nullopt for anything else (a trainable base or bias,
  // several adapters, an adapter that is not a plain low-rank update).
  std::optional<kernels::LowRankLinear> low_rank() const {
    if (adapters.size() > 1 || (bias.defined() && bias.requires_grad())) return std::nullopt;
    if (auto* dense = dynamic_cast<const DenseBase*>(base.get()); dense && dense->weight.requires_grad())
      return std::nullopt;
    kernels::LowRankLinear out;
    std::shared_ptr<SlotBase> b = base;
    out.weight = [b] { return b->dense_weight(); };  // a quantized base dequantises per call
    out.bias = bias;
    if (adapters.empty()) return out;
    const std::optional<LowRankUpdate> u = adapters[0]->low_rank_update();
    if (!u) return std::nullopt;
    out.lora_a = u->a;
    out.lora_b = u->b;
    out.scaling = u->scaling;
    out.dropout = u->dropout;
    return out;
  }

 private:
  at::Tensor forward_from(const at::Tensor& x, std::size_t n) const {
    if (n == 0) return forward_base(x);
    return adapters[n - 1]->forward(x, *this, [this, n](const at::Tensor& xi) {
      return forward_from(xi, n - 1);
    });
  }
};

}  // namespace axl::models
