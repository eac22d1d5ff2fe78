#include "axl/peft/adalora.h"

#include <optional>

#include "axl/core/error.h"
#include "axl/core/torch_compat.h"
#include "axl/peft/adalora_layer.h"
#include "axl/peft/adalora_rank_allocator.h"
#include "axl/peft/modules_to_save.h"

namespace axl::peft {

std::vector<std::string> default_adalora_targets(const std::string& model_type) {
  if (model_type == "gpt2") return {"c_attn"};
  if (model_type == "llama" || model_type == "qwen2" || model_type == "qwen3" || model_type == "gemma" ||
      model_type == "gemma2")
    return {"q_proj", "v_proj"};
  throw Error("AdaLoRA: no default target_modules for model_type '" + model_type + "' (PEFT has none either); set target_modules");
}

namespace {

using Layers = std::vector<std::pair<std::string, std::shared_ptr<AdaLoraLayer>>>;

// The model-level half of AdaLoRA: the regularisation term and the rank allocator.
class AdaLoraHooks : public AdapterHooks {
 public:
  AdaLoraHooks(std::shared_ptr<AdaLoraConfig> config, Layers layers, bool allocate)
      : config_(std::move(config)), layers_(std::move(layers)), allocate_(allocate) {}

  // orth_reg_weight * mean over every A and B of ||A A^T - I||_F, ||B^T B - I||_F.
  at::Tensor regularization_loss() override {
    if (config_->orth_reg_weight <= 0 || layers_.empty()) return {};
    at::Tensor sum;
    auto add = [&](const at::Tensor& cov) {
      const at::Tensor term = at::linalg_vector_norm(cov - at::eye(cov.size(0), cov.options()), 2);
      sum = sum.defined() ? sum + term : term;
    };
    for (auto& [name, l] : layers_) {
      add(at::matmul(l->lora_a, l->lora_a.t()));
      add(at::matmul(l->lora_b.t(), l->lora_b));
    }
    return sum / static_cast<double>(2 * layers_.size()) * config_->orth_reg_weight;
  }

  void on_train_begin(int64_t total_steps) override {
    if (!allocate_) return;
    if (!config_->total_step) config_->total_step = total_steps;
    config_->check_schedule("AdaLoRA config");
    RankSchedule s;
    s.target_r = config_->target_r;
    s.tinit = config_->tinit;
    s.tfinal = config_->tfinal;
    s.deltaT = config_->deltaT;
    s.total_step = *config_->total_step;
    s.beta1 = config_->beta1;
    s.beta2 = config_->beta2;
    std::vector<AdaLoraTriplet> triplets;
    for (auto& [name, l] : layers_) triplets.push_back({name, l->lora_a, l->lora_e, l->lora_b});
    allocator_.emplace(s, std::move(triplets));
    if (pending_state_) allocator_->load_state(*pending_state_);
    pending_state_.reset();
  }

  void after_optimizer_step(int64_t global_step) override {
    if (!allocator_) return;
    RankAllocator::Pattern current;
    for (auto& [name, l] : layers_)
      if (l->kept().defined()) current[name] = l->kept();
    if (auto pattern = allocator_->step(global_step, current)) set_pattern(*pattern);
  }

  // The importance averages, the current masks and, for layers that drop triplets, the full
  // tensors (the saved adapter holds only the kept rows).
  std::map<std::string, at::Tensor> training_state() override {
    std::map<std::string, at::Tensor> out = allocator_ ? allocator_->state() : std::map<std::string, at::Tensor>();
    for (auto& [name, l] : layers_) {
      if (!l->kept().defined()) continue;
      out[name + ".kept"] = l->kept().to(at::kByte);
      out[name + ".full.lora_A"] = l->lora_a.detach().clone();  // a snapshot: training goes on in place
      out[name + ".full.lora_E"] = l->lora_e.detach().clone();
      out[name + ".full.lora_B"] = l->lora_b.detach().clone();
    }
    return out;
  }

  void load_training_state(const std::map<std::string, at::Tensor>& state) override {
    at::NoGradGuard no_grad;
    RankAllocator::Pattern pattern;
    for (auto& [name, l] : layers_) {
      auto kept = state.find(name + ".kept");
      if (kept == state.end()) continue;
      pattern[name] = kept->second.to(l->lora_e.device()).to(at::kBool);
      auto copy = [&](const std::string& key, at::Tensor& dst) {
        auto it = state.find(name + ".full." + key);
        if (it == state.end() || it->second.sizes() != dst.sizes())
          throw Error("adapter_training_state.safetensors: no matching " + name + ".full." + key +
                      " (a checkpoint of another AdaLoRA run?)");
        dst.copy_(it->second);
      };
      copy("lora_A", l->lora_a);
      copy("lora_E", l->lora_e);
      copy("lora_B", l->lora_b);
    }
    if (!pattern.empty()) set_pattern(pattern);
    if (allocator_) allocator_->load_state(state);
    else pending_state_ = state;
  }

 private:
  void set_pattern(const RankAllocator::Pattern& pattern) {
    std::map<std::string, std::vector<bool>> flags;
    for (auto& [name, l] : layers_) {
      auto it = pattern.find(name);
      if (it == pattern.end()) continue;
      l->set_kept(it->second);
      const at::Tensor k = it->second.to(at::kCPU).contiguous();
      std::vector<bool> v;
      for (int64_t i = 0; i < k.numel(); ++i) v.push_back(k[i].item<bool>());
      flags[name] = v;
    }
    config_->rank_pattern = flags;
  }

  std::shared_ptr<AdaLoraConfig> config_;
  Layers layers_;
  bool allocate_;
  std::optional<RankAllocator> allocator_;
  std::optional<std::map<std::string, at::Tensor>> pending_state_;
};

void init_triplet(at::Tensor& a, at::Tensor& e, at::Tensor& b, LoraInit init, at::Generator& gen) {
  if (init == LoraInit::Random) {  // PEFT's init_lora_weights false: torch.randn for all three
    a.normal_(0.0, 1.0, gen);
    e.normal_(0.0, 1.0, gen);
    b.normal_(0.0, 1.0, gen);
    return;
  }
  e.zero_();
  a.normal_(0.0, 0.02, gen);
  b.normal_(0.0, 0.02, gen);
}

}  // namespace

Adapter attach_adalora(models::CausalLM& model, const AdaLoraConfig& config_in, uint64_t seed) {
  auto config = std::make_shared<AdaLoraConfig>(config_in);
  LoraConfig& lc = config->lora;
  TargetModules& targets = lc.target_modules ? *lc.target_modules : lc.target_modules.emplace();
  if (targets.kind == TargetModules::Kind::List && targets.names.empty())
    targets.names = default_adalora_targets(model.config.model_type);
  if (model.config.is_gpt2()) lc.fan_in_fan_out = true;  // PEFT's Conv1D rule

  Adapter adapter;
  adapter.config = config;
  Layers layers;
  at::Generator gen = compat::make_cpu_generator(seed);
  for (models::LinearSlot* slot : model.slots()) {
    if (!targets.matches(slot->name, slot == &model.lm_head)) continue;
    int64_t r = config->init_r;
    if (config->rank_pattern) {
      auto it = config->rank_pattern->find(slot->name);
      if (it != config->rank_pattern->end()) {
        r = 0;
        for (bool k : it->second) r += k ? 1 : 0;
      }
    }
    at::Tensor a = at::empty({r, slot->base->in_features()}, at::kFloat);
    at::Tensor e = at::empty({r, 1}, at::kFloat);
    at::Tensor b = at::empty({slot->base->out_features(), r}, at::kFloat);
    init_triplet(a, e, b, lc.init, gen);
    a = a.to(model.device()).requires_grad_(true);
    e = e.to(model.device()).requires_grad_(true);
    b = b.to(model.device()).requires_grad_(true);
    auto layer = std::make_shared<AdaLoraLayer>(a, e, b, config->scaling(), config->init_r, lc.lora_dropout);
    slot->adapters.push_back(layer);
    adapter.layers.push_back({slot, layer, nullptr, at::Tensor()});
    layers.emplace_back(slot->name, layer);
  }
  if (adapter.layers.empty())
    throw Error("AdaLoRA: target_modules " + targets.to_json().dump() + " matched no linear module of this " +
                model.config.model_type + " model");
  if (config->rank_pattern)
    for (const auto& [module, kept] : *config->rank_pattern) {
      bool found = false;
      for (const auto& l : layers) found = found || l.first == module;
      if (!found) throw Error("AdaLoRA: rank_pattern names " + module + ", which the adapter does not target");
    }
  adapter.hooks = std::make_shared<AdaLoraHooks>(config, layers, /*allocate=*/!config->rank_pattern);
  attach_modules_to_save(model, adapter, lc.modules_to_save, "AdaLoRA");
  return adapter;
}

}  // namespace axl::peft
