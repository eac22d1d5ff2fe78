// LoftQ (quant/loftq.h): the alternating quantise / SVD start on fixed weights, and parity with
// PEFT's own loftq_init (tests/peers/refs-loftq.sh).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <fstream>
#include <string>

#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/loftq.h"
#include "axl/quant/quantized_linear.h"
#include "tests/fixtures.h"

namespace {

using axl::quant::LoftqOptions;
using axl::quant::loftq_init;

// A low-rank part plus noise, as trained weights look (LoftQ's factors then have work to do).
at::Tensor fixed_weight(int64_t out, int64_t in, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  at::Tensor low = at::mm(at::randn({out, 4}, g), at::randn({4, in}, g)) * 0.05;
  return at::randn({out, in}, g) * 0.02 + low;
}

double relative_error(const at::Tensor& w, const at::Tensor& approx) {
  return (w - approx).norm().item<double>() / w.norm().item<double>();
}

TEST(Loftq, ErrorFallsWithIterationsAndBeatsPlainQuantisation) {
  const at::Tensor w = fixed_weight(96, 160, 11);
  // Plain QLoRA starts from B = 0: the error is the quantisation error alone.
  const double plain = relative_error(
      w, axl::quant::dequantize_4bit(axl::quant::quantize_4bit(w, axl::quant::Quant4Type::NF4, 64, false)));
  double previous = plain;
  for (int iters : {1, 2, 5}) {
    const auto r = loftq_init(w, {4, 8, iters});
    const double err = relative_error(w, r.dequantized + at::mm(r.lora_b, r.lora_a));
    std::printf("{\"loftq\":\"nf4 r8\",\"iterations\":%d,\"relative_error\":%.5f,\"plain_qlora\":%.5f}\n", iters, err, plain);
    EXPECT_LT(err, previous) << iters << " iterations";
    previous = err;
  }
  EXPECT_LT(previous, 0.95 * plain);
  // 8 bits: the same start, a much smaller residual.
  const auto r8 = loftq_init(w, {8, 8, 2});
  EXPECT_LT(relative_error(w, r8.dequantized + at::mm(r8.lora_b, r8.lora_a)), 0.2 * plain);
}

TEST(Loftq, BaseIsOnTheNf4GridAndFactorsHaveTheLayerShape) {
  const at::Tensor w = fixed_weight(64, 48, 3);
  const auto r = loftq_init(w, {4, 8, 3});
  ASSERT_EQ(r.lora_a.sizes(), (at::IntArrayRef{8, 48}));
  ASSERT_EQ(r.lora_b.sizes(), (at::IntArrayRef{64, 8}));
  // Quantising Q again (load_in_4bit without double quantisation) gives Q back bit for bit.
  const at::Tensor again =
      axl::quant::dequantize_4bit(axl::quant::quantize_4bit(r.dequantized, axl::quant::Quant4Type::NF4, 64, false));
  EXPECT_TRUE(at::equal(again, r.dequantized));
  // A rank above min(out, in): the extra factor rows/columns stay zero, the product is the same.
  const at::Tensor small = fixed_weight(16, 6, 5);
  const auto big = loftq_init(small, {4, 10, 1});
  ASSERT_EQ(big.lora_a.size(0), 10);
  EXPECT_EQ(big.lora_a.narrow(0, 6, 4).abs().sum().item<double>(), 0.0);
  EXPECT_LT(relative_error(small, big.dequantized + at::mm(big.lora_b, big.lora_a)), 1e-5);
}

TEST(Loftq, BadSettingsAreErrors) {
  const at::Tensor w = fixed_weight(8, 64, 1);
  EXPECT_THROW(loftq_init(w, {3, 4, 1}), axl::Error);
  EXPECT_THROW(loftq_init(w, {4, 4, 0}), axl::Error);
  EXPECT_THROW(loftq_init(w, {4, 0, 1}), axl::Error);
  EXPECT_THROW(loftq_init(w.reshape({-1}), {4, 4, 1}), axl::Error);
}

TEST(Loftq, SlotBaseBecomesQuantizedQ) {
  const at::Tensor w = fixed_weight(64, 64, 9);
  axl::models::LinearSlot dense;
  dense.base = std::make_shared<axl::models::DenseBase>(w.clone());
  const auto r = axl::quant::apply_loftq(dense, {4, 4, 2});
  EXPECT_TRUE(at::equal(dense.base->dense_weight(), r.dequantized));
  // A 4-bit base is re-quantized from Q with its own settings (double quantisation kept).
  axl::models::LinearSlot q4;
  q4.base = std::make_shared<axl::quant::Linear4bit>(axl::quant::quantize_4bit(w, axl::quant::Quant4Type::NF4, 64, true),
                                                     at::kFloat);
  axl::quant::apply_loftq(q4, {4, 4, 2});
  auto b4 = std::dynamic_pointer_cast<axl::quant::Linear4bit>(q4.base);
  ASSERT_TRUE(b4);
  EXPECT_TRUE(b4->q.nested);
}

// PEFT's loftq_init on the same weights: the same Q and the same product B A (compared as a
// product: the factors' signs are the SVD's choice), case by case as the reference says.
TEST(LoftqPeer, MatchesPeftLoftqInit) {
  const char* env = std::getenv("AXL_PEER_FIXTURES");
  const std::string dir = env ? std::string(env) + "/loftq" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/cases.json")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference loftq not generated (run tests/peers/refs-loftq.sh; set AXL_PEER_FIXTURES)";
  }
  const auto ref = axl::load_safetensors(dir + "/loftq.safetensors");
  std::ifstream f(dir + "/cases.json");
  const nlohmann::json cases = nlohmann::json::parse(f);
  ASSERT_GE(cases.size(), 6u);
  for (const auto& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const at::Tensor w = ref.at(name + ".weight");
    const auto ours = loftq_init(w, {c["bits"].get<int>(), c["rank"].get<int64_t>(), c["iterations"].get<int>()});
    const at::Tensor q = ref.at(name + ".q");
    const double differing = ours.dequantized.ne(q).sum().item<double>() / static_cast<double>(q.numel());
    const at::Tensor product = at::mm(ref.at(name + ".lora_B"), ref.at(name + ".lora_A"));
    const double product_err = (at::mm(ours.lora_b, ours.lora_a) - product).norm().item<double>() /
                               product.norm().item<double>();
    const double err = relative_error(w, ours.dequantized + at::mm(ours.lora_b, ours.lora_a));
    std::printf("{\"loftq_peer\":\"%s\",\"q_differing\":%.2e,\"product_rel_err\":%.2e,\"ours_rel_err\":%.5f,"
                "\"peft_rel_err\":%.5f}\n", name.c_str(), differing, product_err, err, c["relative_error"].get<double>());
    const std::string compare = c["compare"];
    if (compare == "exact") {
      EXPECT_TRUE(at::equal(ours.dequantized, q));
      EXPECT_LT(product_err, 1e-5);
      EXPECT_NEAR(err, c["relative_error"].get<double>(), 1e-6);
    } else {
      // bitsandbytes' CPU bug (tests/peers/loftq_reference.py): our blocks give a better start.
      EXPECT_LT(err, 0.8 * c["relative_error"].get<double>());
    }
  }
}

}  // namespace
