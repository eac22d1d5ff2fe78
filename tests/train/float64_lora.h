#pragma once
// The float64 LoRA setup the exactness tests share (checkpointing, fused functions): an hf-tiny
// model in float64, LoRA r 4 with dropout 0.1 and random (nonzero) B on every linear layer,
// and a fixed padded batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <string>
#include <vector>

#include "axl/core/torch_compat.h"
#include "axl/models/loader.h"
#include "axl/peft/lora.h"

namespace axl::test {

// dtype/device: float64 on the CPU unless a GPU test asks otherwise.
inline models::CausalLM load_double(const std::string& dir, at::ScalarType dtype = at::kDouble,
                                    at::Device device = at::kCPU) {
  models::LoadOptions lo;
  lo.dtype = dtype;
  lo.device = device;
  lo.writable = true;
  return models::load_causal_lm(dir, lo);
}

// dora: DoRA instead of plain LoRA (same rank, dropout and init). The adapter's tensors take
// `dtype` (float64 unless a GPU test asks for float32).
inline peft::Adapter attach_float64_lora(models::CausalLM& model, bool dora = false, double dropout = 0.1,
                                         at::ScalarType dtype = at::kDouble) {
  peft::LoraConfig lc;
  lc.r = 4;
  lc.lora_alpha = 8;
  lc.lora_dropout = dropout;
  lc.use_dora = dora;
  lc.init = peft::LoraInit::Random;
  peft::TargetModules t;
  t.kind = peft::TargetModules::Kind::AllLinear;
  lc.target_modules = t;
  peft::Adapter adapter = peft::attach_lora(model, lc, 11);
  for (auto& a : adapter.layers)
    for (auto& [name, tensor] : a.layer->tensors()) *tensor = tensor->detach().to(dtype).requires_grad_(true);
  adapter.set_training(true);
  return adapter;
}

// Two rows of 12 tokens, the second padded after 9 (labels -100 there).
struct PaddedBatch {
  at::Tensor ids, mask, labels;
};
inline PaddedBatch padded_test_batch() {
  auto g = compat::make_cpu_generator(3);
  PaddedBatch b;
  b.ids = at::randint(0, 256, {2, 12}, g, at::kLong);
  b.mask = at::ones_like(b.ids);
  b.mask[1].narrow(0, 9, 3).zero_();
  b.labels = b.ids.masked_fill(b.mask.eq(0), -100);
  return b;
}

// The batch as a forward's input (eager attention), after seeding the random stream (dropout).
inline models::ForwardInput seeded_eager_input(const PaddedBatch& b, uint64_t seed) {
  at::manual_seed(seed);
  models::ForwardInput in;
  in.input_ids = b.ids;
  in.attention_mask = b.mask;
  in.attention = kernels::AttentionImpl::Eager;
  return in;
}

// The gradients of `params` (undefined where none arrived), cleared for the next pass.
inline std::vector<at::Tensor> take_grads(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> grads;
  for (const auto& t : params) {
    grads.push_back(t.grad().defined() ? t.grad().clone() : at::Tensor());
    t.mutable_grad().reset();
  }
  return grads;
}

// The worst diff(a[i], b[i]) over two gradient lists; a missing gradient fails the test.
template <typename Diff>
double worst_gradient_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, Diff diff) {
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_TRUE(a[i].defined() && b[i].defined()) << "parameter " << i << " got no gradient";
    if (!a[i].defined() || !b[i].defined()) return INFINITY;
    worst = std::max(worst, diff(a[i], b[i]));
  }
  return worst;
}

}  // namespace axl::test
