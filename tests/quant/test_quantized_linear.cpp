// QuantizedLinear under adapters: forward/backward against the dequantised weight, the shared
// workspace never kept for backward, quantized-model logits against the dequantized-weight
// model, and LoRA training on a 4-bit / 8-bit base.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <memory>

#include "axl/models/loader.h"
#include "axl/peft/method_registry.h"
#include "axl/quant/dequant_cuda.h"
#include "axl/quant/quantize_model.h"
#include "axl/quant/quantized_linear.h"
#include "tests/fixtures.h"

using namespace axl::quant;

namespace {

std::shared_ptr<Linear4bit> make_4bit(int64_t out, int64_t in, uint64_t seed, bool dq = true) {
  at::manual_seed(seed);
  return std::make_shared<Linear4bit>(quantize_4bit(at::randn({out, in}) * 0.1, Quant4Type::NF4, 64, dq), at::kFloat);
}

// Replaces every quantized base by a dense copy of its dequantised weight.
void densify(axl::models::CausalLM& m) {
  for (auto* slot : m.slots())
    if (auto q = std::dynamic_pointer_cast<QuantizedBase>(slot->base))
      slot->base = std::make_shared<axl::models::DenseBase>(q->dense_weight());
}

at::Tensor token_batch(int64_t vocab, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(vocab, {2, 12}, at::kLong);
}

}  // namespace

TEST(QuantizedLinear, ForwardAndInputGradientMatchDequantizedWeight) {
  for (bool eight : {false, true}) {
    std::shared_ptr<QuantizedBase> base;
    if (eight) {
      at::manual_seed(5);
      base = std::make_shared<Linear8bit>(quantize_int8_rowwise(at::randn({48, 96}) * 0.1), at::kFloat);
    } else {
      base = make_4bit(48, 96, 5);
    }
    at::Tensor w = base->dense_weight();
    at::Tensor x = at::randn({3, 5, 96}).requires_grad_(true);
    at::Tensor y = base->forward(x);
    EXPECT_TRUE(at::allclose(y, at::linear(x.detach(), w), 1e-5, 1e-6));
    at::Tensor g = at::randn_like(y);
    auto grads = torch::autograd::grad({y}, {x}, {g});
    EXPECT_TRUE(at::allclose(grads[0], at::matmul(g, w), 1e-5, 1e-6)) << (eight ? "int8" : "nf4");
  }
}

TEST(QuantizedLinear, WorkspaceIsNotKeptForBackward) {
  auto a = make_4bit(32, 64, 1), b = make_4bit(32, 64, 2);
  at::Tensor x = at::randn({4, 64}).requires_grad_(true);
  at::Tensor ya = a->forward(x);
  // b's forward overwrites the shared workspace; a's backward must dequantise its own again.
  at::Tensor yb = b->forward(x);
  auto ga = torch::autograd::grad({ya.sum()}, {x}, {}, true);
  EXPECT_TRUE(at::allclose(ga[0], a->dense_weight().sum(0).expand({4, 64}), 1e-5, 1e-6));
  at::Tensor ws = dequant_workspace(32, 64, at::kFloat, at::Device(at::kCPU));
  EXPECT_TRUE(at::equal(ws, a->dense_weight()));  // the last dequantisation was a's backward
}

TEST(QuantizedLinear, QuantizedModelLogitsMatchDequantizedModel) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  for (int bits : {4, 8}) {
    auto m = axl::models::load_causal_lm(dir);
    QuantizeSpec spec;
    spec.bits = bits;
    EXPECT_EQ(quantize_linear_slots(m, spec), 14);  // 7 per layer, lm_head left dense
    auto ref = axl::models::load_causal_lm(dir);
    quantize_linear_slots(ref, spec);
    densify(ref);
    at::NoGradGuard ng;
    axl::models::ForwardInput in;
    in.input_ids = token_batch(256, 9);
    at::Tensor lq = m.forward(in).logits, ld = ref.forward(in).logits;
    EXPECT_LT((lq - ld).abs().max().item<double>(), 1e-4) << bits << "-bit";
    // And quantisation changed the model a little, not a lot.
    auto dense = axl::models::load_causal_lm(dir);
    const double drift = (dense.forward(in).logits - lq).abs().max().item<double>();
    EXPECT_GT(drift, 1e-5);
    EXPECT_LT(drift, bits == 4 ? 2.0 : 0.2);  // hf-tiny's weights are N(0, 0.1): 4-bit moves logits ~1
  }
}

TEST(QuantizedLinear, LoraTrainsOnQuantizedBaseWithFallingLoss) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  for (int bits : {4, 8}) {
    auto m = axl::models::load_causal_lm(dir);
    QuantizeSpec spec;
    spec.bits = bits;
    quantize_linear_slots(m, spec);
    nlohmann::json lora = {{"peft_type", "LORA"}, {"r", 8}, {"lora_alpha", 16}, {"lora_dropout", 0.0},
                           {"target_modules", "all-linear"}};
    axl::peft::Adapter adapter = axl::peft::attach_adapter(m, lora, "test", 1);
    auto params = adapter.trainable();
    ASSERT_FALSE(params.empty());
    axl::models::ForwardInput in;
    in.input_ids = token_batch(256, 4);
    double first = 0, last = 0;
    for (int step = 0; step < 12; ++step) {
      at::Tensor logits = m.forward(in).logits;
      at::Tensor loss = at::cross_entropy_loss(logits.slice(1, 0, -1).reshape({-1, 256}),
                                               in.input_ids.slice(1, 1).reshape({-1}));
      std::vector<at::Tensor> ps;
      for (auto& [k, p] : params) ps.push_back(p);
      auto grads = torch::autograd::grad({loss}, ps);
      at::NoGradGuard ng;
      for (size_t i = 0; i < ps.size(); ++i) ps[i].sub_(grads[i] * 0.1);
      if (step == 0) first = loss.item<double>();
      last = loss.item<double>();
    }
    std::printf("{\"qlora_manual_sgd\":\"hf-tiny llama %d-bit\",\"first_loss\":%.4f,\"last_loss\":%.4f}\n", bits, first, last);
    EXPECT_LT(last, first * 0.85) << bits << "-bit: " << first << " -> " << last;
    // The base stays frozen and quantized.
    for (auto* slot : m.slots()) {
      if (slot == &m.lm_head) continue;
      EXPECT_TRUE(std::dynamic_pointer_cast<QuantizedBase>(slot->base) != nullptr) << slot->name;
    }
  }
}

// The CUDA dequantisation kernel against the CPU path (bf16 output); skipped without a GPU.
TEST(QuantizedLinear, CudaKernelMatchesCpuDequantisation) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (bool dq : {false, true}) {
    at::manual_seed(21);
    Quantized4bit q = quantize_4bit(at::randn({333, 257}), Quant4Type::NF4, 64, dq);  // odd count, partial block
    at::Tensor cpu = dequantize_4bit(q, at::kFloat).to(at::kBFloat16);
    move_to(q, at::Device(at::kCUDA));
    at::Tensor out = at::empty({333, 257}, at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA));
    dequantize_4bit_cuda(q, out);
    EXPECT_TRUE(at::equal(out.cpu(), cpu)) << "double quant " << dq;
  }
}
