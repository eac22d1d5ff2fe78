// Forward, backward and an optimizer step with every tensor on the meta device: any tensor
// made on a hard-coded device (CPU) would fail to mix with meta tensors here, long before a
// GPU run finds it.
#include <gtest/gtest.h>

#include <torch/library.h>

#include "axl/models/causal_lm.h"
#include "axl/models/loader.h"

namespace {

// libtorch ships meta kernels for most ops in C++, but a few only in Python
// (torch/_meta_registrations.py). Shape-only versions of those are registered here so the
// model code itself runs unchanged on meta tensors.
at::Tensor meta_index_select(const at::Tensor& self, int64_t dim, const at::Tensor& index) {
  auto sizes = self.sizes().vec();
  if (!sizes.empty()) sizes[static_cast<std::size_t>(at::maybe_wrap_dim(dim, self.dim()))] = index.numel();
  return at::empty(sizes, self.options());
}

at::Tensor meta_embedding_dense_backward(const at::Tensor& grad, const at::Tensor& /*indices*/,
                                         c10::SymInt num_weights, c10::SymInt /*padding_idx*/,
                                         bool /*scale_grad_by_freq*/) {
  return at::empty({num_weights.expect_int(), grad.size(-1)}, grad.options());
}

at::Tensor& meta_where_out(const at::Tensor& cond, const at::Tensor& self, const at::Tensor& other,
                           at::Tensor& out) {
  auto shape = at::infer_size(at::infer_size(cond.sizes(), self.sizes()), other.sizes());
  out.resize_(shape);
  return out;
}

at::Tensor meta_where(const at::Tensor& cond, const at::Tensor& self, const at::Tensor& other) {
  auto shape = at::infer_size(at::infer_size(cond.sizes(), self.sizes()), other.sizes());
  return at::empty(shape, self.options().dtype(at::result_type(self, other)));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> meta_native_layer_norm(
    const at::Tensor& input, c10::SymIntArrayRef normalized_shape, const std::optional<at::Tensor>&,
    const std::optional<at::Tensor>&, double) {
  auto stat_shape = input.sizes().vec();
  for (std::size_t i = 0; i < normalized_shape.size(); ++i) stat_shape[stat_shape.size() - 1 - i] = 1;
  auto f32 = input.options().dtype(at::kFloat);
  return {at::empty_like(input), at::empty(stat_shape, f32), at::empty(stat_shape, f32)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> meta_native_layer_norm_backward(
    const at::Tensor& grad_out, const at::Tensor& input, c10::SymIntArrayRef, const at::Tensor&,
    const at::Tensor&, const std::optional<at::Tensor>& weight, const std::optional<at::Tensor>& bias,
    std::array<bool, 3>) {
  (void)grad_out;
  return {at::empty_like(input), weight ? at::empty_like(*weight) : at::Tensor(),
          bias ? at::empty_like(*bias) : at::Tensor()};
}

TORCH_LIBRARY_IMPL(aten, Meta, m) {
  m.impl("native_layer_norm", meta_native_layer_norm);
  m.impl("native_layer_norm_backward", meta_native_layer_norm_backward);
  m.impl("where.self", meta_where);
  m.impl("where.self_out", meta_where_out);
  m.impl("index_select", meta_index_select);
  m.impl("embedding_dense_backward", meta_embedding_dense_backward);
}

axl::models::ModelConfig small_config(const std::string& type) {
  std::string json = R"({"model_type": ")" + type + R"(", "vocab_size": 64, "hidden_size": 32,
    "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64,
    "sliding_window": 4, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
    "query_pre_attn_scalar": 8, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
    "original_max_position_embeddings": 32, "low_freq_factor": 1.0, "high_freq_factor": 4.0}})";
  return axl::models::parse_model_config(json, "test");
}

class MetaDevice : public ::testing::TestWithParam<std::string> {};

TEST_P(MetaDevice, ForwardBackwardStep) {
  axl::models::LoadOptions opts;
  opts.device = at::Device(at::kMeta);
  auto cfg = small_config(GetParam());
  auto model = axl::models::random_causal_lm(cfg, opts, 0);
  std::vector<at::Tensor> params;
  for (auto& [name, t] : model.named_tensors()) {
    EXPECT_TRUE(t.is_meta()) << name;
    t.requires_grad_(true);
    params.push_back(t);
  }
  auto ids = at::zeros({2, 9}, at::TensorOptions().dtype(at::kLong).device(at::kMeta));
  axl::models::ForwardInput in;
  in.input_ids = ids;
  in.attention_mask = at::ones({2, 9}, ids.options());
  auto out = model.forward(in);
  EXPECT_TRUE(out.logits.is_meta());
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 9, 64}));
  at::Tensor loss = axl::models::causal_lm_loss(out.logits, ids);
  EXPECT_TRUE(loss.is_meta());
  loss.backward();
  at::NoGradGuard no_grad;
  for (auto& p : params) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_TRUE(p.grad().is_meta());
    p.sub_(p.grad() * 1e-3);  // a plain SGD step
  }
}

INSTANTIATE_TEST_SUITE_P(Families, MetaDevice,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2",
                                           "phi3", "gpt2"));

}  // namespace
