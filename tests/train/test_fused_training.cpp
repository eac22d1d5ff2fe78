// The fused autograd functions wired into the decoder change memory, never numbers: in float64
// on the hf-tiny models, with LoRA (dropout 0.1, random B) on every linear layer, every LoRA
// gradient of a forward + backward with all fused functions on (and with each checkpointing
// mode on top) equals the plain autograd run's; the fused nodes really are in the graph; DoRA
// keeps the plain path; and the config keys pick the functions as Axolotl's do.
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <torch/csrc/autograd/function.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "axl/core/error.h"
#include "axl/kernels/cuda_switch.h"
#include "axl/train/activation_checkpoint.h"
#include "axl/train/fused_ops_setting.h"
#include "axl/train/token_loss.h"
#include "tests/fixtures.h"
#include "tests/train/float64_lora.h"
#include "tests/train/stories_model.h"

namespace {

using axl::models::CausalLM;

enum class Checkpointing { Off, Layer, Offload };

// The adapter's tensors, in a fixed order.
std::vector<at::Tensor> adapter_tensors(axl::peft::Adapter& adapter) {
  std::vector<at::Tensor> params;
  for (auto& a : adapter.layers)
    for (auto& [name, tensor] : a.layer->tensors()) params.push_back(*tensor);
  return params;
}

axl::kernels::FusedOps all_fused() {
  axl::kernels::FusedOps f;
  f.lora_mlp = f.lora_qkv = f.lora_o = f.rope = f.rms_norm = true;
  return f;
}

// Names of the autograd nodes reachable from `root`.
std::set<std::string> node_names(const at::Tensor& root) {
  std::set<std::string> names;
  std::vector<torch::autograd::Node*> todo{root.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  while (!todo.empty()) {
    torch::autograd::Node* n = todo.back();
    todo.pop_back();
    if (!n || !seen.insert(n).second) continue;
    names.insert(n->name());
    for (const auto& e : n->next_edges()) todo.push_back(e.function.get());
  }
  return names;
}

bool has_node(const std::set<std::string>& names, const std::string& part) {
  for (const auto& n : names)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

struct Pass {
  std::vector<at::Tensor> grads;
  std::set<std::string> nodes;
};

// One forward + backward of a fixed padded batch (token-sum normalised loss) under `seed`.
Pass forward_backward(const CausalLM& model, const std::vector<at::Tensor>& params, const axl::kernels::FusedOps& fused,
                      Checkpointing ckpt, uint64_t seed, at::Device device = at::kCPU) {
  axl::test::PaddedBatch b = axl::test::padded_test_batch();
  b.ids = b.ids.to(device), b.mask = b.mask.to(device), b.labels = b.labels.to(device);
  axl::models::ForwardInput in = axl::test::seeded_eager_input(b, seed);
  in.fused = fused;
  if (ckpt != Checkpointing::Off) in.layer_runner = axl::train::checkpoint_every_layer(model, ckpt == Checkpointing::Offload);
  const double tokens = static_cast<double>(axl::train::trained_token_count(b.labels));
  at::Tensor loss = axl::train::summed_causal_lm_loss_from_hidden(model, model.hidden(in), b.labels) / tokens;
  Pass p;
  p.nodes = node_names(loss);
  loss.backward();
  p.grads = axl::test::take_grads(params);
  return p;
}

double worst_relative_error(const Pass& got, const Pass& ref) {
  return axl::test::worst_gradient_diff(got.grads, ref.grads, [](const at::Tensor& g, const at::Tensor& r) {
    return (g - r).norm().item<double>() / std::max(r.norm().item<double>(), 1e-300);
  });
}

void check_family(const std::string& family) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + family);
  CausalLM model = axl::test::load_double(dir);
  axl::peft::Adapter adapter = axl::test::attach_float64_lora(model, false);
  const std::vector<at::Tensor> params = adapter_tensors(adapter);
  const Pass plain = forward_backward(model, params, {}, Checkpointing::Off, 5);
  EXPECT_FALSE(has_node(plain.nodes, "LoraLinearGroup"));
  for (Checkpointing ckpt : {Checkpointing::Off, Checkpointing::Layer, Checkpointing::Offload}) {
    const Pass fused = forward_backward(model, params, all_fused(), ckpt, 5);
    const double err = worst_relative_error(fused, plain);
    EXPECT_LE(err, 1e-6) << family << " checkpointing mode " << static_cast<int>(ckpt);
    std::printf("%s fused (checkpointing %d) vs plain: worst relative gradient error %.3g over %zu tensors\n",
                family.c_str(), static_cast<int>(ckpt), err, params.size());
    if (ckpt == Checkpointing::Off) {
      EXPECT_TRUE(has_node(fused.nodes, "LoraLinearGroup")) << family;
      EXPECT_TRUE(has_node(fused.nodes, "LoraGatedMlp")) << family;
      EXPECT_TRUE(has_node(fused.nodes, "RmsNormFunction")) << family;
    }
  }
  // Dropout is really on: another seed gives other gradients.
  EXPECT_GT(worst_relative_error(forward_backward(model, params, all_fused(), Checkpointing::Off, 6), plain), 1e-4);
}

TEST(FusedTraining, LlamaLoraGradientsEqualThePlainRunInFloat64) { check_family("LlamaForCausalLM"); }
TEST(FusedTraining, MistralLoraGradientsEqualThePlainRunInFloat64) { check_family("MistralForCausalLM"); }
// Qwen2: q/k/v biases. Phi-3: fused qkv and gate_up slots (the merged gate_up MLP), split q/k
// copied before RoPE.
TEST(FusedTraining, Qwen2LoraGradientsEqualThePlainRunInFloat64) { check_family("Qwen2ForCausalLM"); }
TEST(FusedTraining, Phi3LoraGradientsEqualThePlainRunInFloat64) { check_family("Phi3ForCausalLM"); }
// Gemma: GeGLU MLP (tanh GELU) and (1 + w) norms.
TEST(FusedTraining, GemmaLoraGradientsEqualThePlainRunInFloat64) { check_family("GemmaForCausalLM"); }

TEST(FusedTraining, DoraKeepsThePlainPath) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  CausalLM model = axl::test::load_double(dir);
  axl::peft::Adapter adapter = axl::test::attach_float64_lora(model, true);
  const std::vector<at::Tensor> params = adapter_tensors(adapter);
  EXPECT_FALSE(model.layers[0].q->low_rank().has_value());
  const Pass plain = forward_backward(model, params, {}, Checkpointing::Off, 5);
  const Pass fused = forward_backward(model, params, all_fused(), Checkpointing::Layer, 5);
  EXPECT_FALSE(has_node(fused.nodes, "LoraLinearGroup"));
  EXPECT_LE(worst_relative_error(fused, plain), 1e-6);
}

// On a GPU (scripts/gpu-suite.sh test): offloaded checkpoints go through pinned host memory
// and a side stream there, the RNG replay covers the device generator, and our CUDA kernels
// run inside the fused functions. Float64 with dropout 0.1: each checkpointing mode against
// the fused run without checkpointing (same masks by construction), and the fused run against
// plain autograd with dropout 0 (CUDA's dropout may lay masks out by the input's alignment).
// Float32 with all kernels on (TF32 off): fused against plain autograd within 1e-4.
TEST(GpuFusedTraining, CheckpointModesAndKernelsOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device on this machine";
  at::globalContext().setAllowTF32CuBLAS(false);
  const at::Device cuda(at::kCUDA);
  for (const std::string family : {"LlamaForCausalLM", "Phi3ForCausalLM", "GemmaForCausalLM"}) {
    AXL_REQUIRE_FIXTURE(dir, "hf-tiny/" + family);
    {
      CausalLM model = axl::test::load_double(dir, at::kDouble, cuda);
      axl::peft::Adapter adapter = axl::test::attach_float64_lora(model, false, 0.1);
      const auto params = adapter_tensors(adapter);
      const Pass ref = forward_backward(model, params, all_fused(), Checkpointing::Off, 5, cuda);
      for (Checkpointing ckpt : {Checkpointing::Layer, Checkpointing::Offload})
        EXPECT_LE(worst_relative_error(forward_backward(model, params, all_fused(), ckpt, 5, cuda), ref), 1e-8)
            << family << " checkpointing mode " << static_cast<int>(ckpt);
    }
    for (at::ScalarType dt : {at::kDouble, at::kFloat}) {
      CausalLM model = axl::test::load_double(dir, dt, cuda);
      axl::peft::Adapter adapter = axl::test::attach_float64_lora(model, false, 0.0, dt);
      const auto params = adapter_tensors(adapter);
      const Pass plain = forward_backward(model, params, {}, Checkpointing::Off, 5, cuda);
      if (dt == at::kFloat) axl::kernels::cuda::set_enabled_kernels("all");
      const Pass fused = forward_backward(model, params, all_fused(), Checkpointing::Offload, 5, cuda);
      axl::kernels::cuda::set_enabled_kernels("");
      const double err = worst_relative_error(fused, plain);
      EXPECT_LE(err, dt == at::kDouble ? 1e-6 : 1e-4) << family << " " << c10::toString(dt);
      std::printf("%s on CUDA, %s: fused + offload vs plain, worst relative gradient error %.3g\n", family.c_str(),
                  c10::toString(dt), err);
    }
  }
}

TEST(FusedTraining, ConfigKeysPickTheFunctionsAsAxolotl) {
  const axl::test::StoriesModel* s = axl::test::stories_model("stories-fused");
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  const std::string out = s->dir + "/out";
  auto fused = [&](const std::string& extra) {
    return axl::train::fused_ops_for(axl::test::stories_config(*s, out, extra));
  };
  const auto lora = fused("adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\n");
  EXPECT_TRUE(lora.lora_mlp && lora.lora_qkv && lora.lora_o && lora.rope && lora.rms_norm);  // auto-enabled
  const auto one_set = fused("adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\nlora_mlp_kernel: true\n");
  EXPECT_TRUE(one_set.lora_mlp);
  EXPECT_FALSE(one_set.lora_qkv || one_set.lora_o);  // Axolotl auto-enables none once one is set
  const auto off = fused("adapter: lora\nlora_r: 4\nlora_alpha: 8\nlora_target_linear: true\nlora_qkv_kernel: false\n");
  EXPECT_FALSE(off.lora_mlp || off.lora_qkv || off.lora_o);
  const auto full = fused("");
  EXPECT_FALSE(full.lora_mlp || full.lora_qkv || full.lora_o);

  const auto offload = axl::test::stories_config(*s, out, "gradient_checkpointing: offload\n");
  EXPECT_TRUE(offload.gradient_checkpointing && offload.gradient_checkpointing_offload);
  const auto plain = axl::test::stories_config(*s, out, "gradient_checkpointing: true\n");
  EXPECT_TRUE(plain.gradient_checkpointing && !plain.gradient_checkpointing_offload);
  EXPECT_THROW(axl::test::stories_config(*s, out, "gradient_checkpointing: offload_disk\n"), axl::Error);
  // Axolotl 0.19's removed keys stop the run with its advice, as Axolotl does.
  try {
    axl::test::stories_config(*s, out, "unsloth_rms_norm: true\n");
    ADD_FAILURE() << "unsloth_rms_norm was accepted";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lora_mlp_kernel"), std::string::npos) << e.what();
  }
}

}  // namespace
