#include "axl/peft/prompt_tuning.h"

#include <filesystem>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::peft {

nlohmann::json PromptTuningConfig::to_json() const {
  nlohmann::json j;
  write_common(j);
  j["prompt_tuning_init"] = prompt_tuning_init;
  j["prompt_tuning_init_text"] = prompt_tuning_init_text ? nlohmann::json(*prompt_tuning_init_text) : nlohmann::json(nullptr);
  j["tokenizer_kwargs"] = tokenizer_kwargs;
  j["tokenizer_name_or_path"] = tokenizer_name_or_path ? nlohmann::json(*tokenizer_name_or_path) : nlohmann::json(nullptr);
  return j;
}

PromptTuningConfig PromptTuningConfig::from_json(const nlohmann::json& j, const std::string& source) {
  PromptTuningConfig c;
  c.read_common(j, source);
  try {
    if (j.contains("prompt_tuning_init") && !j["prompt_tuning_init"].is_null())
      c.prompt_tuning_init = j["prompt_tuning_init"].get<std::string>();
    if (j.contains("prompt_tuning_init_text") && !j["prompt_tuning_init_text"].is_null())
      c.prompt_tuning_init_text = j["prompt_tuning_init_text"].get<std::string>();
    if (j.contains("tokenizer_name_or_path") && !j["tokenizer_name_or_path"].is_null())
      c.tokenizer_name_or_path = j["tokenizer_name_or_path"].get<std::string>();
    if (j.contains("tokenizer_kwargs")) c.tokenizer_kwargs = j["tokenizer_kwargs"];
    if (j.contains("prompt_tuning_init_token_ids") && !j["prompt_tuning_init_token_ids"].is_null())
      c.init_token_ids = j["prompt_tuning_init_token_ids"].get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": bad PROMPT_TUNING setting (" + e.what() + ")");
  }
  const std::string& init = c.prompt_tuning_init;
  if (init != "RANDOM" && init != "SAMPLE_VOCAB" && init != "TEXT")
    throw Error(source + ": prompt_tuning_init must be RANDOM, SAMPLE_VOCAB or TEXT (got \"" + init + "\")");
  // PEFT's checks; they matter only for a fresh adapter, but PEFT makes them on every config.
  if (init == "TEXT" && !c.prompt_tuning_init_text)
    throw Error(source + ": prompt_tuning_init TEXT needs prompt_tuning_init_text");
  if (init == "TEXT" && !c.tokenizer_name_or_path && !c.init_token_ids)
    throw Error(source + ": prompt_tuning_init TEXT needs tokenizer_name_or_path (the tokenizer that encodes the text)");
  return c;
}

namespace {

// The table, batch-expanded: every row of the batch gets the same virtual tokens.
class PromptTokens : public models::VirtualTokens {
 public:
  at::Tensor table;  // [P, hidden]
  int64_t count() const override { return table.size(0); }
  models::VirtualTokenInputs make(int64_t batch) const override {
    models::VirtualTokenInputs out;
    out.embeddings = table.unsqueeze(0).expand({batch, table.size(0), table.size(1)});
    return out;
  }
};

// PEFT's TEXT initialisation ids: the text's ids cut or repeated to `count`.
std::vector<int64_t> text_init_ids(const PromptTuningConfig& c, int64_t count) {
  std::vector<int64_t> ids;
  if (c.init_token_ids) {
    ids = *c.init_token_ids;
  } else {
    const std::string& dir = *c.tokenizer_name_or_path;
    if (!std::filesystem::exists(dir))
      throw Error("PROMPT_TUNING: tokenizer_name_or_path '" + dir + "' is not a local tokenizer folder or file");
    auto tok = tokenizer::load_tokenizer(dir);
    for (auto id : tok->encode(*c.prompt_tuning_init_text)) ids.push_back(static_cast<int64_t>(id));
  }
  if (ids.empty()) throw Error("PROMPT_TUNING: prompt_tuning_init_text encodes to no tokens");
  std::vector<int64_t> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(ids[static_cast<size_t>(i) % ids.size()]);
  return out;
}

}  // namespace

Adapter attach_prompt_tuning(models::CausalLM& model, const PromptTuningConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<PromptTuningConfig>(config_in);
  config->fill_from_model(model.config);
  const models::ModelConfig& mc = model.config;
  if (*config->token_dim != mc.hidden_size)
    throw Error("PROMPT_TUNING: token_dim " + std::to_string(*config->token_dim) + " is not the model's hidden size " +
                std::to_string(mc.hidden_size));
  const int64_t count = config->num_virtual_tokens * config->num_transformer_submodules;

  at::Generator gen = compat::make_cpu_generator(seed);
  at::Tensor table;
  // PEFT initialises from the vocabulary only for a fresh adapter; a loaded one is overwritten.
  const bool fresh = !config->inference_mode;
  if (fresh && config->prompt_tuning_init != "RANDOM") {
    at::Tensor ids;
    if (config->prompt_tuning_init == "TEXT") {
      std::vector<int64_t> v = text_init_ids(*config, count);
      for (int64_t id : v)
        if (id < 0 || id >= model.embed.size(0))
          throw Error("PROMPT_TUNING: prompt_tuning_init_text id " + std::to_string(id) + " is outside the vocabulary");
      ids = at::tensor(v, at::kLong);
    } else {
      ids = at::randint(0, model.embed.size(0), {count}, gen, at::kLong);
    }
    at::NoGradGuard no_grad;
    table = at::embedding(model.embed.detach(), ids.to(model.device())).to(at::kFloat).clone();
  } else {
    table = normal_table(count, *config->token_dim, gen);
  }

  auto tokens = std::make_shared<PromptTokens>();
  Adapter adapter;
  adapter.config = config;
  tokens->table = adapter.shared_tensors["prompt_embeddings"] = table.to(model.device()).requires_grad_(true);
  auto hooks = std::make_shared<VirtualTokenHooks>(&model, tokens);
  hooks->activate();
  adapter.hooks = hooks;
  return adapter;
}

}  // namespace axl::peft
