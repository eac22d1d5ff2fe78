// bitsandbytes-format checkpoints both ways: ours round-trips; transformers' pre-quantized
// hf-tiny Llama loads with its logits; the one `axolotl quantize` wrote loads in transformers.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>

#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/models/loader.h"
#include "axl/quant/bnb_checkpoint.h"
#include "axl/quant/quantize_config.h"
#include "axl/quant/quantized_linear.h"
#include "tests/fixtures.h"
#include "tests/quant/peer_refs.h"

using namespace axl::quant;
namespace fs = std::filesystem;

namespace {

at::Tensor logits_of(const axl::models::CausalLM& m, const at::Tensor& ids) {
  at::NoGradGuard ng;
  axl::models::ForwardInput in;
  in.input_ids = ids;
  return m.forward(in).logits;
}

std::string text_of(const at::Tensor& bytes) {
  at::Tensor b = bytes.contiguous();
  return std::string(reinterpret_cast<const char*>(b.data_ptr<uint8_t>()), static_cast<size_t>(b.numel()));
}

}  // namespace

TEST(BnbCheckpoint, OursRoundTripsWithTransformersKeys) {
  AXL_REQUIRE_FIXTURE(src, "hf-tiny/LlamaForCausalLM");
  const std::string out = axl::test::scratch_dir("bnb-roundtrip") + "/q";
  auto m = axl::models::load_causal_lm(src);
  QuantizeSpec spec;  // nf4 + double quant
  quantize_linear_slots(m, spec);
  save_bnb_checkpoint(m, src, out, spec);
  EXPECT_TRUE(is_bnb_checkpoint(out));
  EXPECT_FALSE(is_bnb_checkpoint(src));
  auto t = axl::load_safetensors(out + "/model.safetensors");
  const std::string k = "model.layers.0.self_attn.q_proj.weight";
  for (const char* s : {"", ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".quant_state.bitsandbytes__nf4"})
    EXPECT_TRUE(t.count(k + s)) << k + s;
  EXPECT_EQ(t.at(k).sizes(), (std::vector<int64_t>{64 * 64 / 2, 1}));
  EXPECT_EQ(t.at(k + ".absmax").scalar_type(), at::kByte);
  EXPECT_EQ(t.count("lm_head.weight.absmax"), 0u);  // the head stays dense
  const std::string state = text_of(t.at(k + ".quant_state.bitsandbytes__nf4"));
  EXPECT_EQ(state.rfind("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64, 64], "
                        "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ", 0), 0u) << state;
  nlohmann::json cfg = axl::read_json_file(out + "/config.json");
  EXPECT_EQ(cfg["quantization_config"]["quant_method"], "bitsandbytes");
  EXPECT_EQ(cfg["quantization_config"]["bnb_4bit_use_double_quant"], true);

  QuantizeSpec read;
  auto back = load_bnb_causal_lm(out, {}, &read);
  EXPECT_EQ(read.bits, 4);
  EXPECT_TRUE(read.double_quant);
  EXPECT_EQ(read.type, Quant4Type::NF4);
  at::Tensor ids = at::arange(1, 11, at::kLong).view({1, 10});
  EXPECT_TRUE(at::equal(logits_of(m, ids), logits_of(back, ids)));

  // 8-bit: int8 weight, SCB, weight_format.
  auto m8 = axl::models::load_causal_lm(src);
  QuantizeSpec s8;
  s8.bits = 8;
  quantize_linear_slots(m8, s8);
  save_bnb_checkpoint(m8, src, out + "8", s8);
  auto t8 = axl::load_safetensors(out + "8/model.safetensors");
  EXPECT_EQ(t8.at(k).scalar_type(), at::kChar);
  EXPECT_TRUE(t8.count("model.layers.0.self_attn.q_proj.SCB"));
  auto back8 = load_bnb_causal_lm(out + "8", {});
  EXPECT_TRUE(at::equal(logits_of(m8, ids), logits_of(back8, ids)));
}

TEST(BnbCheckpoint, BadQuantStateIsAUserError) {
  AXL_REQUIRE_FIXTURE(src, "hf-tiny/LlamaForCausalLM");
  Quantized4bit q = quantize_4bit(at::randn({64, 64}), Quant4Type::NF4, 64, true);
  auto entries = quant_state_entries("w.weight", q);
  auto getter = [&](std::map<std::string, at::Tensor>& e) {
    return [&e](const std::string& key) { return e.count(key) ? e.at(key) : at::Tensor(); };
  };
  EXPECT_NO_THROW(quant_state_from_entries("w.weight", getter(entries)));
  auto broken = entries;
  broken["w.weight.quant_state.bitsandbytes__nf4"] = at::zeros({3}, at::kByte);
  EXPECT_THROW(quant_state_from_entries("w.weight", getter(broken)), axl::Error);
  auto missing = entries;
  missing.erase("w.weight.nested_absmax");
  EXPECT_THROW(quant_state_from_entries("w.weight", getter(missing)), axl::Error);
  auto short_codes = entries;
  short_codes["w.weight"] = at::zeros({100, 1}, at::kByte);
  EXPECT_THROW(quant_state_from_entries("w.weight", getter(short_codes)), axl::Error);
}

TEST(BnbCheckpoint, ConfigKeysChooseTheFormat) {
  AXL_REQUIRE_FIXTURE(model, "hf-tiny/LlamaForCausalLM");
  const std::string base = "base_model: " + model + "\nlearning_rate: 0.0002\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\ndatasets:\n  - path: d.jsonl\n    type: alpaca\n";
  auto load = [&](const std::string& extra) { return axl::config::load_config_text(base + extra, "q.yml").config; };
  auto s4 = spec_for_config(load("adapter: qlora\nload_in_4bit: true\n"), at::kBFloat16);
  ASSERT_TRUE(s4);
  EXPECT_EQ(s4->bits, 4);
  EXPECT_EQ(s4->type, Quant4Type::NF4);
  EXPECT_TRUE(s4->double_quant);
  EXPECT_EQ(s4->compute_dtype, at::kBFloat16);
  auto s4b = spec_for_config(load("adapter: qlora\nload_in_4bit: true\nbnb_config_kwargs:\n  bnb_4bit_quant_type: fp4\n"
                                  "  bnb_4bit_use_double_quant: false\n  bnb_4bit_compute_dtype: float32\n"),
                             at::kBFloat16);
  EXPECT_EQ(s4b->type, Quant4Type::FP4);
  EXPECT_FALSE(s4b->double_quant);
  EXPECT_EQ(s4b->compute_dtype, at::kFloat);
  EXPECT_EQ(spec_for_config(load("adapter: lora\nload_in_8bit: true\n"), at::kFloat)->bits, 8);
  EXPECT_FALSE(spec_for_config(load("adapter: lora\n"), at::kFloat));
  EXPECT_THROW(load("adapter: qlora\n"), axl::Error);
  EXPECT_THROW(load("load_in_4bit: true\n"), axl::Error);
  EXPECT_THROW(load("adapter: qlora\nload_in_4bit: true\nload_in_8bit: true\n"), axl::Error);
  EXPECT_THROW(spec_for_config(load("adapter: qlora\nload_in_4bit: true\nbnb_config_kwargs:\n  bnb_4bit_quant_type: int4\n"),
                               at::kFloat), axl::Error);
}

TEST(BnbCheckpointPeer, TransformersQuantizedLlamaLoadsWithItsLogits) {
  AXL_REQUIRE_QUANT_PEER(dir);
  AXL_REQUIRE_FIXTURE(src, "hf-tiny/LlamaForCausalLM");
  for (const char* type : {"nf4", "fp4"}) {
    SCOPED_TRACE(type);
    const std::string qdir = dir + "/llama-bnb-" + type;
    auto ref = axl::load_safetensors(qdir + "/logits.safetensors");
    auto m = load_bnb_causal_lm(qdir, {});
    const double err = (logits_of(m, ref.at("input_ids")) - ref.at("logits")).abs().max().item<double>();
    std::printf("{\"bnb_load\":\"%s\",\"max_abs_logit_err_vs_transformers_formula\":%.3g}\n", type, err);
    EXPECT_LT(err, 1e-4);
    std::printf("{\"bnb_load\":\"%s\",\"max_abs_logit_diff_vs_bitsandbytes_cpu_kernels\":%.3g}\n", type,
                (logits_of(m, ref.at("input_ids")) - ref.at("bnb_cpu_logits")).abs().max().item<double>());
    // Our quantisation of the dense fixture is what transformers wrote, bit for bit.
    auto dense = axl::models::load_causal_lm(src);
    QuantizeSpec spec;
    spec.type = parse_quant4_type(type);
    spec.double_quant = std::string(type) == "nf4";
    quantize_linear_slots(dense, spec);
    auto theirs = axl::load_safetensors(qdir + "/model.safetensors");
    for (auto* slot : dense.slots()) {
      auto b = std::dynamic_pointer_cast<Linear4bit>(slot->base);
      if (!b) continue;
      for (auto& [key, t] : quant_state_entries(slot->name + ".weight", b->q)) {
        ASSERT_TRUE(theirs.count(key)) << key;
        if (key.find("quant_state") != std::string::npos) continue;  // JSON: offset printed by Python
        at::Tensor other = theirs.at(key).to(t.scalar_type());
        if (b->q.nested && key.size() > 7 && key.compare(key.size() - 7, 7, ".absmax") == 0) {
          // 8-bit codes of the scales: bitsandbytes' CPU search keeps the second-nearest code
          // for a few values (test_codec_peer.cpp checks each such case); at most one code off.
          EXPECT_LE((t.to(at::kInt) - other.to(at::kInt)).abs().max().item<int>(), 1) << key;
          EXPECT_LE((t != other).sum().item<int64_t>() * 50, t.numel()) << key;
        } else {
          EXPECT_TRUE(at::equal(t, other)) << key;
        }
      }
    }
  }
}

TEST(BnbCheckpointPeer, OurQuantizedCheckpointLoadsInTransformers) {
  AXL_REQUIRE_QUANT_PEER(dir);
  if (!fs::exists(dir + "/ours_transformers_logits.safetensors")) GTEST_FAIL() << "refs-quant.sh did not load ours";
  auto ref = axl::load_safetensors(dir + "/ours_transformers_logits.safetensors");
  auto m = load_bnb_causal_lm(dir + "/ours-nf4", {});
  const double err = (logits_of(m, ref.at("input_ids")) - ref.at("logits")).abs().max().item<double>();
  std::printf("{\"ours_in_transformers\":\"nf4+dq\",\"max_abs_logit_err\":%.3g}\n", err);
  EXPECT_LT(err, 1e-4);
}
