#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/models/model_config.h"
#include "tests/fixtures.h"

namespace {

using axl::models::load_model_config;
using axl::models::parse_model_config;

TEST(ModelConfig, FixtureFamilies) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny");
  auto llama = load_model_config(dir + "/LlamaForCausalLM");
  EXPECT_EQ(llama.num_kv_heads, 2);
  EXPECT_EQ(llama.head_dim, 16);
  EXPECT_DOUBLE_EQ(llama.rope.theta, 500000.0);
  EXPECT_FALSE(llama.tie_word_embeddings);
  auto gemma = load_model_config(dir + "/GemmaForCausalLM");
  EXPECT_EQ(gemma.head_dim, 32);
  EXPECT_EQ(gemma.activation, "gelu_pytorch_tanh");
  EXPECT_TRUE(gemma.scale_embeddings);
  EXPECT_TRUE(gemma.tie_word_embeddings);
  auto qwen = load_model_config(dir + "/Qwen2ForCausalLM");
  EXPECT_TRUE(qwen.qkv_bias);
  EXPECT_FALSE(qwen.o_bias);
  auto phi = load_model_config(dir + "/Phi3ForCausalLM");
  EXPECT_TRUE(phi.fused_qkv && phi.fused_gate_up);
  auto gpt2 = load_model_config(dir + "/GPT2LMHeadModel");
  EXPECT_EQ(gpt2.intermediate_size, 256);
  EXPECT_TRUE(gpt2.learned_positions);
}

TEST(ModelConfig, RopeScalingBothSpellings) {
  auto v4 = parse_model_config(R"({"model_type":"llama","vocab_size":8,"hidden_size":8,"intermediate_size":8,
    "num_hidden_layers":1,"num_attention_heads":2,"rope_theta":500000.0,
    "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
    "original_max_position_embeddings":8192}})", "c");
  EXPECT_EQ(v4.rope.type, "llama3");
  EXPECT_EQ(v4.rope.original_max_position_embeddings, 8192);
  auto v5 = parse_model_config(R"({"model_type":"qwen3","vocab_size":8,"hidden_size":8,"intermediate_size":8,
    "num_hidden_layers":1,"num_attention_heads":2,"rope_parameters":{"rope_type":"linear","factor":2.0,
    "rope_theta":1000000.0}})", "c");
  EXPECT_EQ(v5.rope.type, "linear");
  EXPECT_DOUBLE_EQ(v5.rope.theta, 1e6);
  EXPECT_TRUE(v5.qk_norm);
}

TEST(ModelConfig, Gemma2SlidingLayersAndScale) {
  auto g = parse_model_config(R"({"model_type":"gemma2","vocab_size":8,"hidden_size":8,"intermediate_size":8,
    "num_hidden_layers":4,"num_attention_heads":2,"head_dim":4,"sliding_window":16,
    "query_pre_attn_scalar":16,"attn_logit_softcapping":50.0,"final_logit_softcapping":30.0})", "c");
  EXPECT_EQ(g.layer_sliding, (std::vector<bool>{true, false, true, false}));
  EXPECT_DOUBLE_EQ(g.attn_scale, 0.25);
  EXPECT_DOUBLE_EQ(g.final_softcap, 30.0);
}

TEST(ModelConfig, ErrorsNameTheProblem) {
  auto msg = [](const std::string& json) {
    try {
      parse_model_config(json, "cfg.json");
    } catch (const axl::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg(R"({"model_type":"mamba"})").find("'mamba' is not supported"), std::string::npos);
  EXPECT_NE(msg(R"({"model_type":"llama"})").find("missing required field 'vocab_size'"), std::string::npos);
  EXPECT_NE(msg("{nope").find("cfg.json: invalid JSON"), std::string::npos);
  EXPECT_NE(msg(R"({"model_type":"llama","vocab_size":8,"hidden_size":8,"intermediate_size":8,
    "num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2})").find("multiple"), std::string::npos);
}

}  // namespace
