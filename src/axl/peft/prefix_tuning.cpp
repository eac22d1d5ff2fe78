#include "axl/peft/prefix_tuning.h"

#include <cmath>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"

namespace axl::peft {

nlohmann::json PrefixTuningConfig::to_json() const {
  nlohmann::json j;
  write_common(j);
  j["encoder_hidden_size"] = encoder_hidden_size ? nlohmann::json(*encoder_hidden_size) : nlohmann::json(nullptr);
  j["init_weights"] = init_zero ? nlohmann::json("zero") : nlohmann::json(nullptr);
  j["prefix_projection"] = prefix_projection;
  return j;
}

PrefixTuningConfig PrefixTuningConfig::from_json(const nlohmann::json& j, const std::string& source) {
  PrefixTuningConfig c;
  c.read_common(j, source);
  try {
    if (j.contains("encoder_hidden_size") && !j["encoder_hidden_size"].is_null())
      c.encoder_hidden_size = j["encoder_hidden_size"].get<int64_t>();
    if (j.contains("prefix_projection") && !j["prefix_projection"].is_null())
      c.prefix_projection = j["prefix_projection"].get<bool>();
    if (j.contains("init_weights") && !j["init_weights"].is_null()) {
      if (j["init_weights"] != "zero") throw Error(source + ": init_weights must be null or \"zero\"");
      c.init_zero = true;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad PREFIX_TUNING setting (" + e.what() + ")");
  }
  if (c.encoder_hidden_size && *c.encoder_hidden_size <= 0) throw Error(source + ": encoder_hidden_size must be positive");
  return c;
}

void PrefixTuningConfig::resolve_for(const models::ModelConfig& model) {
  fill_from_model(model);
  // PEFT sizes the prefix by the key/value heads (grouped-query attention), whatever was set.
  if (!model.is_gpt2()) {
    token_dim = model.head_dim * model.num_kv_heads;
    num_attention_heads = model.num_kv_heads;
  }
  if (!encoder_hidden_size) encoder_hidden_size = token_dim;
}

namespace {

// The learned prefix and how it becomes keys and values. Holds handles to the adapter's
// tensors (the same storage as Adapter::shared_tensors, so loading into those shows here).
class PrefixTokens : public models::VirtualTokens {
 public:
  int64_t tokens = 0, layers = 0, heads = 0, head_dim = 0;
  at::Tensor table;                      // [P, 2 L H D] (no projection)
  at::Tensor embedding, w0, b0, w1, b1;  // the reparameterisation (prefix_projection)

  // The [P, 2 L H D] table, through the MLP when there is one.
  at::Tensor computed_table() const {
    if (!embedding.defined()) return table;
    return at::linear(at::tanh(at::linear(embedding, w0, b0)), w1, b1);
  }
  int64_t count() const override { return tokens; }
  models::VirtualTokenInputs make(int64_t batch) const override {
    // [P, 2L, H, D] -> [2L, H, P, D]; layer l's keys are entry 2l, its values 2l + 1.
    at::Tensor kv = computed_table().view({tokens, 2 * layers, heads, head_dim}).permute({1, 2, 0, 3});
    models::VirtualTokenInputs out;
    for (int64_t l = 0; l < layers; ++l) {
      out.keys.push_back(kv[2 * l].unsqueeze(0).expand({batch, heads, tokens, head_dim}));
      out.values.push_back(kv[2 * l + 1].unsqueeze(0).expand({batch, heads, tokens, head_dim}));
    }
    return out;
  }
};

const char* kTableKey = "prompt_embeddings";
// The training form's tensors (PEFT's prompt_encoder.<adapter>.* without the adapter name);
// never saved: PEFT saves the table they compute.
const char* kEmbeddingKey = "prompt_encoder.embedding.weight";
const char* kW0Key = "prompt_encoder.transform.0.weight";
const char* kB0Key = "prompt_encoder.transform.0.bias";
const char* kW1Key = "prompt_encoder.transform.2.weight";
const char* kB1Key = "prompt_encoder.transform.2.bias";

class PrefixHooks : public VirtualTokenHooks {
 public:
  PrefixHooks(models::CausalLM* model, std::shared_ptr<PrefixTokens> tokens)
      : VirtualTokenHooks(model, tokens), tokens_(std::move(tokens)) {}
  void to_saved_form(std::map<std::string, at::Tensor>& tensors) override {
    if (!tokens_->embedding.defined()) return;
    for (const char* key : {kEmbeddingKey, kW0Key, kB0Key, kW1Key, kB1Key}) tensors.erase(key);
    at::NoGradGuard no_grad;
    tensors[kTableKey] = tokens_->computed_table().detach().to(at::kFloat).contiguous();
  }

 private:
  std::shared_ptr<PrefixTokens> tokens_;
};

// nn.Linear's default initialisation: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
std::pair<at::Tensor, at::Tensor> linear_init(int64_t out, int64_t in, at::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  at::Tensor w = at::empty({out, in}, at::kFloat).uniform_(-bound, bound, gen);
  at::Tensor b = at::empty({out}, at::kFloat).uniform_(-bound, bound, gen);
  return {w, b};
}

}  // namespace

Adapter attach_prefix_tuning(models::CausalLM& model, const PrefixTuningConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<PrefixTuningConfig>(config_in);
  config->resolve_for(model.config);
  const models::ModelConfig& mc = model.config;
  const int64_t heads = *config->num_attention_heads, dim = *config->token_dim;
  if (*config->num_layers != mc.num_layers || heads != mc.num_kv_heads || dim != mc.num_kv_heads * mc.head_dim)
    throw Error("PREFIX_TUNING: num_layers " + std::to_string(*config->num_layers) + ", num_attention_heads " +
                std::to_string(heads) + ", token_dim " + std::to_string(dim) + " do not fit this model (" +
                std::to_string(mc.num_layers) + " layers, " + std::to_string(mc.num_kv_heads) +
                " key/value heads of size " + std::to_string(mc.head_dim) + ")");

  auto tokens = std::make_shared<PrefixTokens>();
  tokens->tokens = config->num_virtual_tokens;
  tokens->layers = mc.num_layers;
  tokens->heads = heads;
  tokens->head_dim = mc.head_dim;
  const int64_t width = mc.num_layers * 2 * dim;
  const auto device = model.device();
  auto trainable = [&](const at::Tensor& t) { return t.to(device).requires_grad_(true); };

  Adapter adapter;
  adapter.config = config;
  at::Generator gen = compat::make_cpu_generator(seed);
  // PEFT builds the MLP only for a fresh adapter; a loaded one is the saved table.
  if (config->prefix_projection && !config->inference_mode) {
    const int64_t hidden = *config->encoder_hidden_size;
    at::Tensor embedding = normal_table(config->num_virtual_tokens, dim, gen);
    auto [w0, b0] = linear_init(hidden, dim, gen);
    auto [w1, b1] = linear_init(width, hidden, gen);
    if (config->init_zero) {
      w1.zero_();
      b1.zero_();
    }
    tokens->embedding = adapter.shared_tensors[kEmbeddingKey] = trainable(embedding);
    tokens->w0 = adapter.shared_tensors[kW0Key] = trainable(w0);
    tokens->b0 = adapter.shared_tensors[kB0Key] = trainable(b0);
    tokens->w1 = adapter.shared_tensors[kW1Key] = trainable(w1);
    tokens->b1 = adapter.shared_tensors[kB1Key] = trainable(b1);
  } else {
    at::Tensor table = normal_table(config->num_virtual_tokens, width, gen);
    if (config->init_zero) table.zero_();
    tokens->table = adapter.shared_tensors[kTableKey] = trainable(table);
  }
  auto hooks = std::make_shared<PrefixHooks>(&model, tokens);
  hooks->activate();
  adapter.hooks = hooks;
  return adapter;
}

}  // namespace axl::peft
