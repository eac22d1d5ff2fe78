// The memory estimate's arithmetic (config/memory_estimate.h) on a fixed tiny Llama:
// vocab 1000, hidden 64, MLP 128, 2 layers, 4 heads (head_dim 16), untied head. Its parameters:
// embeddings 64000 + head 64000 + 2 x (4 x 64 x 64 + 3 x 64 x 128) + norms 320 = 210240; LoRA
// r=4 on every linear but the head adds 2 x (4 x 4 x 128 + 3 x 4 x 192) = 8704.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "axl/config/load_config.h"
#include "axl/config/memory_estimate.h"
#include "axl/config/plan.h"
#include "tests/fixtures.h"

using axl::config::MemoryDevice;
using axl::config::MemoryEstimate;
using testing::HasSubstr;

namespace {

constexpr int64_t kTotal = 210240, kLora = 8704, kLinear = 2 * (4 * 64 * 64 + 3 * 64 * 128), kEmbed = 64000;

MemoryEstimate estimate(const std::string& extra, MemoryDevice device = MemoryDevice::Cpu) {
  static const std::string dir = [] {
    const std::string d = axl::test::scratch_dir("memory-estimate-model");
    std::ofstream(d + "/config.json")
        << R"({"model_type":"llama","vocab_size":1000,"hidden_size":64,"intermediate_size":128,
              "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"tie_word_embeddings":false})";
    return d;
  }();
  const std::string yaml = "base_model: " + dir +
                           "\nlearning_rate: 1e-4\ndatasets: [{path: d.jsonl, type: alpaca}]\nsequence_len: 128\n" + extra;
  const auto cfg = axl::config::load_config_text(yaml, "cfg.yml").config;
  const auto plan = axl::config::make_plan(cfg, "cfg.yml");
  EXPECT_EQ(plan.params.total, kTotal);
  return axl::config::estimate_memory(cfg, plan, device, {});
}

const char* kLoraKeys = "adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n";

}  // namespace

TEST(MemoryEstimate, FullFineTuneFloat32AdamW) {
  const auto e = estimate("");
  EXPECT_EQ(e.dtype, "float32");
  EXPECT_EQ(e.weights, kTotal * 4);
  EXPECT_EQ(e.adapter, 0);
  EXPECT_EQ(e.gradients, kTotal * 4);
  EXPECT_EQ(e.optimizer_states, kTotal * 8);  // exp_avg + exp_avg_sq, float32
  EXPECT_GT(e.activations, 0);
  EXPECT_GT(e.runtime, 100 << 20);  // libtorch's resident libraries and pools
  EXPECT_EQ(e.total(), e.runtime + e.weights + e.gradients + e.optimizer_states + e.activations + e.loss + e.slack);
}

TEST(MemoryEstimate, LoraCountsAdapterGradientsAndStatesPerOptimizer) {
  const auto e = estimate(kLoraKeys);
  // A frozen checkpoint stays memory-mapped on the CPU: of the embedding only the rows the
  // data looks up become resident.
  EXPECT_EQ(e.weights, (kTotal - kEmbed) * 4);
  EXPECT_EQ(e.adapter, kLora * 4);
  EXPECT_EQ(e.gradients, kLora * 4);
  EXPECT_EQ(e.optimizer_states, kLora * 8);
  EXPECT_EQ(estimate(std::string(kLoraKeys) + "optimizer: lion_32bit\n").optimizer_states, kLora * 4);
  // bitsandbytes 8-bit: two uint8 codes and a float32 absmax per 256 values.
  EXPECT_EQ(estimate(std::string(kLoraKeys) + "optimizer: adamw_bnb_8bit\n").optimizer_states,
            static_cast<int64_t>(kLora * 2 * (1.0 + 4.0 / 256)));
  // Adafactor: a row and a column statistic per factor, (r + in) + (out + r) per layer.
  EXPECT_EQ(estimate(std::string(kLoraKeys) + "optimizer: adafactor\n").optimizer_states,
            (kLora / 4 + 2 * 4 * 14) * 4);
}

TEST(MemoryEstimate, QuantizedBasesUseTheFormatsBytes) {
  const std::string qlora = "adapter: qlora\nload_in_4bit: true\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n";
  // On CUDA (bfloat16): NF4 + double quantisation at blocksize 64 is 0.5 + 1/64 + 4/(64*256)
  // bytes per parameter, the rest stays in the compute dtype.
  const auto q4 = estimate(qlora, MemoryDevice::Cuda);
  const int64_t nf4_dq = static_cast<int64_t>(kLinear * (0.5 + 1.0 / 64 + 4.0 / (64 * 256)));
  EXPECT_EQ(q4.weights, nf4_dq + (kTotal - kLinear) * 2);
  const auto q4_plain = estimate(qlora + "bnb_config_kwargs: {bnb_4bit_use_double_quant: false}\n", MemoryDevice::Cuda);
  EXPECT_EQ(q4_plain.weights, static_cast<int64_t>(kLinear * (0.5 + 4.0 / 64)) + (kTotal - kLinear) * 2);
  const auto q8 = estimate("adapter: lora\nload_in_8bit: true\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n", MemoryDevice::Cuda);
  EXPECT_EQ(q8.weights, static_cast<int64_t>(kLinear * 1.0033) + (kTotal - kLinear) * 2);
  // On the CPU the dense linears read while quantizing stay resident (mapped pages), plus one
  // dequantisation workspace of the largest linear (128 x 64), less the mapped embedding.
  EXPECT_EQ(estimate(qlora).weights, nf4_dq + (kTotal - kLinear) * 4 + kLinear * 4 + 128 * 64 * 4 - kEmbed * 4);
}

TEST(MemoryEstimate, ActivationsPerLayerMaskAndCheckpointing) {
  // Fused LoRA ops (the default for lora): hidden + q/k/v + attention output + 2 x MLP =
  // 64 + 192 + 64 + 256 = 576 float32 per token and layer, plus the embeddings' output and
  // the final norm (2 x tokens x 64).
  const int64_t per_token_layer = 576 * 4, residual = 64 * 4;
  const auto one = estimate(std::string(kLoraKeys) + "micro_batch_size: 1\n");
  EXPECT_EQ(one.activations, 2 * 128 * per_token_layer + 2 * 128 * residual);
  // Two rows are padded: SDPA gets a float [2, 1, 128, 128] mask per layer.
  const int64_t mask = 2 * 128 * 128 * 4;
  const auto two = estimate(std::string(kLoraKeys) + "micro_batch_size: 2\n");
  EXPECT_EQ(two.activations, 2 * (256 * per_token_layer + mask) + 2 * 256 * residual);
  // Checkpointing keeps each layer's input and recomputes one layer at a time.
  const auto gc = estimate(std::string(kLoraKeys) + "micro_batch_size: 2\ngradient_checkpointing: true\n");
  EXPECT_EQ(gc.activations, 2 * 256 * residual + (256 * per_token_layer + mask) + 2 * 256 * residual);
  // Plain autograd (the LoRA ops off) keeps one more [hidden] tensor per token and layer.
  const auto plain = estimate(std::string(kLoraKeys) + "micro_batch_size: 1\nlora_mlp_kernel: false\n");
  EXPECT_EQ(plain.activations - one.activations, 2 * 128 * 64 * 4);
  // The chunked loss: one chunk of float32 logits (all 128 rows fit) and two [rows, hidden].
  EXPECT_EQ(one.loss, 128 * 1000 * 4 + 2 * 128 * 64 * 4);
}

TEST(MemoryEstimate, CudaUsesTheComputeDtypeAndContext) {
  const auto cuda = estimate(kLoraKeys, MemoryDevice::Cuda);  // bf16: auto is bfloat16 on CUDA
  EXPECT_EQ(cuda.dtype, "bfloat16");
  EXPECT_EQ(cuda.weights, kTotal * 2);
  EXPECT_EQ(cuda.adapter, kLora * 4);  // adapters stay float32
  EXPECT_EQ(cuda.runtime, int64_t{500} << 20);
  // bf16 keeps the chunked loss: the chunk's bf16 GEMM output and its float32 copy.
  EXPECT_EQ(cuda.loss, 128 * 1000 * (2 + 4) + 2 * 128 * 64 * 4);
  EXPECT_EQ(estimate("bf16: true\n").weights, kTotal * 2);  // asked for on the CPU too
  const std::string table = axl::config::format_memory(estimate(kLoraKeys), cuda);
  EXPECT_THAT(table, HasSubstr("unverified"));
  EXPECT_THAT(table, HasSubstr("optimizer states"));
  EXPECT_THAT(table, HasSubstr("total"));
}
