#include "axl/peft/weighted_adapter.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "axl/core/error.h"
#include "axl/peft/lora.h"
#include "axl/peft/lora_config.h"
#include "axl/peft/lora_layer.h"

namespace axl::peft {

namespace {

const char* kWhere = "add_weighted_adapter";

struct Source {
  std::string name;
  Adapter* adapter = nullptr;
  const LoraConfig* config = nullptr;
  double weight = 0;
};

const LoraConfig& lora_config_of(Adapter& adapter, const std::string& name) {
  const auto* config = dynamic_cast<const LoraConfig*>(adapter.config.get());
  if (!config)
    throw Error(std::string(kWhere) + ": adapter '" + name + "' is " +
                (adapter.config ? adapter.config->peft_type() : std::string("of no type")) +
                "; only LoRA adapters can be combined with weights");
  // DoRA keeps a magnitude vector that no weighted sum of A and B carries over.
  if (config->to_json().value("use_dora", false))
    throw Error(std::string(kWhere) + ": adapter '" + name + "' uses DoRA; only plain LoRA adapters can be combined");
  return *config;
}

// PEFT sizes the new adapter by each input's largest rank (r or a rank_pattern value).
int64_t max_rank(const LoraConfig& c) {
  int64_t r = c.r;
  for (const auto& [k, v] : c.rank_pattern) r = std::max(r, v);
  return r;
}

// "all-linear" names every linear module but the head: as PEFT does once it has seen the
// model, turn it into the set of their last path components.
std::vector<std::string> resolved_names(const TargetModules& t, models::CausalLM& model) {
  if (t.kind == TargetModules::Kind::List) return t.names;
  std::vector<std::string> names;
  for (models::LinearSlot* slot : model.slots()) {
    if (!t.matches(slot->name, slot == &model.lm_head)) continue;
    const std::string leaf = slot->name.substr(slot->name.rfind('.') + 1);
    if (std::find(names.begin(), names.end(), leaf) == names.end()) names.push_back(leaf);
  }
  return names;
}

TargetModules combined_targets(const std::vector<Source>& sources, models::CausalLM& model) {
  TargetModules out = *sources.front().config->target_modules;  // exclusions, layers: the first's
  bool any_regex = false, all_regex = true;
  for (const auto& s : sources) {
    const bool regex = s.config->target_modules->kind == TargetModules::Kind::Regex;
    any_regex = any_regex || regex;
    all_regex = all_regex && regex;
  }
  if (any_regex && !all_regex)
    throw Error(std::string(kWhere) + ": the adapters' target_modules mix a regex and a list of names; "
                "PEFT cannot combine those either");
  if (all_regex) {
    out.regex.clear();
    for (const auto& s : sources)
      out.regex += (out.regex.empty() ? "(" : "|(") + s.config->target_modules->regex + ")";
    return out;
  }
  out.kind = TargetModules::Kind::List;
  out.names.clear();
  for (const auto& s : sources)
    for (const auto& n : resolved_names(*s.config->target_modules, model))
      if (std::find(out.names.begin(), out.names.end(), n) == out.names.end()) out.names.push_back(n);
  return out;
}

// PEFT refuses to combine adapters that both keep a trained copy of one module.
void check_saved_modules(const std::vector<Source>& sources) {
  std::set<std::string> seen;
  for (const auto& s : sources) {
    std::vector<std::string> mine;
    for (const auto& m : s.adapter->saved_modules) mine.push_back(m.slot->name);
    if (s.adapter->saved_embedding) mine.push_back(s.adapter->saved_embedding->name);
    for (const auto& n : mine)
      if (!seen.insert(n).second)
        throw Error(std::string(kWhere) + ": more than one adapter keeps a trained copy of " + n +
                    " (modules_to_save); such adapters cannot be combined");
  }
}

LoraLayer* layer_in(Adapter& adapter, const models::LinearSlot* slot) {
  for (auto& a : adapter.layers)
    if (a.slot == slot) return dynamic_cast<LoraLayer*>(a.layer.get());
  return nullptr;
}

struct Contribution {
  const LoraLayer* layer;
  double weight;  // w_i * s_i
};

void combine_linear(const std::vector<Contribution>& parts, LoraLayer& target, const std::string& module) {
  at::Tensor a = at::zeros_like(target.lora_a), b = at::zeros_like(target.lora_b);
  for (const auto& p : parts) {
    if (p.layer->lora_a.sizes() != a.sizes() || p.layer->lora_b.sizes() != b.sizes())
      throw Error(std::string(kWhere) + ": " + module + " has LoRA ranks that differ between the adapters "
                  "(rank_pattern); use combination_type cat or svd");
    // The sign goes on A only, so a negative weight subtracts instead of cancelling out.
    const double root = std::sqrt(std::abs(p.weight));
    a += p.layer->lora_a * (p.weight >= 0 ? root : -root);
    b += p.layer->lora_b * root;
  }
  target.lora_a.copy_(a);
  target.lora_b.copy_(b);
}

void combine_cat(const std::vector<Contribution>& parts, LoraLayer& target) {
  std::vector<at::Tensor> as, bs;
  for (const auto& p : parts) {
    as.push_back(p.layer->lora_a * p.weight);
    bs.push_back(p.layer->lora_b);
  }
  const at::Tensor a = at::cat(as, 0), b = at::cat(bs, 1);
  // A module some adapter's rank_pattern made smaller leaves the remaining rows zero.
  target.lora_a.zero_();
  target.lora_b.zero_();
  target.lora_a.narrow(0, 0, a.size(0)).copy_(a);
  target.lora_b.narrow(1, 0, b.size(1)).copy_(b);
}

void combine_svd(const std::vector<Contribution>& parts, LoraLayer& target, const WeightedAdapterOptions& o,
                 const std::string& module) {
  at::Tensor delta;
  for (const auto& p : parts) {
    at::Tensor d = p.layer->delta_weight() * p.weight;  // delta_weight() carries s_i already
    delta = delta.defined() ? delta + d : d;
  }
  const int64_t rank = target.lora_a.size(0);
  if (rank > std::min(delta.size(0), delta.size(1)))
    throw Error(std::string(kWhere) + ": svd_rank " + std::to_string(rank) + " exceeds the size of " + module +
                " (" + std::to_string(delta.size(0)) + " x " + std::to_string(delta.size(1)) + ")");
  const std::optional<c10::string_view> driver =
      o.svd_driver.empty() ? std::nullopt : std::optional<c10::string_view>(o.svd_driver);
  auto [u, s, vh] = at::linalg_svd(delta, o.svd_full_matrices, driver);
  at::Tensor b = at::matmul(u.narrow(1, 0, rank), at::diag(s.narrow(0, 0, rank)));
  at::Tensor a = vh.narrow(0, 0, rank);
  if (o.svd_clamp) {
    const at::Tensor hi = at::quantile(at::cat({b.flatten(), a.flatten()}), *o.svd_clamp);
    b = b.clamp(-hi, hi);
    a = a.clamp(-hi, hi);
  }
  target.lora_a.copy_(a);
  target.lora_b.copy_(b);
}

int64_t new_rank_for(const std::string& type, const std::vector<Source>& sources, const WeightedAdapterOptions& o) {
  std::vector<int64_t> ranks;
  for (const auto& s : sources) ranks.push_back(max_rank(*s.config));
  if (type == "linear") {
    for (int64_t r : ranks)
      if (r != ranks.front())
        throw Error(std::string(kWhere) + ": combination_type linear needs adapters of equal rank (found " +
                    std::to_string(ranks.front()) + " and " + std::to_string(r) + "); use cat or svd");
    return ranks.front();
  }
  if (type == "cat") {
    int64_t sum = 0;
    for (int64_t r : ranks) sum += r;
    return sum;
  }
  if (type == "svd") {
    if (o.svd_rank && *o.svd_rank < 1) throw Error(std::string(kWhere) + ": svd_rank must be at least 1");
    return o.svd_rank ? *o.svd_rank : *std::max_element(ranks.begin(), ranks.end());
  }
  throw Error(std::string(kWhere) + ": combination_type '" + type + "' is not supported (linear, cat, svd)");
}

}  // namespace

std::string default_combination_type(AdapterSet& set, const std::vector<std::string>& adapters) {
  std::set<int64_t> ranks;
  for (const auto& n : adapters) ranks.insert(max_rank(lora_config_of(set.get(n), n)));
  return ranks.size() <= 1 ? "linear" : "cat";
}

Adapter& add_weighted_adapter(AdapterSet& set, const std::vector<std::string>& adapters,
                              const std::vector<double>& weights, const std::string& new_name,
                              const WeightedAdapterOptions& options) {
  if (adapters.empty()) throw Error(std::string(kWhere) + ": no adapters given");
  if (weights.size() != adapters.size())
    throw Error(std::string(kWhere) + ": " + std::to_string(weights.size()) + " weights for " +
                std::to_string(adapters.size()) + " adapters; give one weight per adapter");
  std::vector<Source> sources;
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    Adapter& a = set.get(adapters[i]);
    sources.push_back({adapters[i], &a, &lora_config_of(a, adapters[i]), weights[i]});
  }
  check_saved_modules(sources);
  // With one adapter PEFT always scales it linearly.
  const std::string type = adapters.size() == 1 ? "linear" : options.combination_type;
  const int64_t rank = new_rank_for(type, sources, options);

  LoraConfig config = *sources.front().config;
  config.r = rank;
  config.lora_alpha = static_cast<double>(rank);
  config.target_modules = combined_targets(sources, set.model());
  config.rank_pattern.clear();
  config.alpha_pattern.clear();
  Adapter& result = set.attach(new_name, [&](models::CausalLM& model) { return attach_lora(model, config, 0); });

  at::NoGradGuard no_grad;
  for (auto& a : result.layers) {
    auto* target = dynamic_cast<LoraLayer*>(a.layer.get());
    std::vector<Contribution> parts;
    for (const auto& s : sources)
      if (const LoraLayer* l = layer_in(*s.adapter, a.slot)) parts.push_back({l, s.weight * l->scaling});
    if (parts.empty()) {
      set.remove(new_name);
      throw Error(std::string(kWhere) + ": the combined target_modules match " + a.slot->name +
                  ", which none of the adapters holds");
    }
    try {
      if (type == "linear") combine_linear(parts, *target, a.slot->name);
      else if (type == "cat") combine_cat(parts, *target);
      else combine_svd(parts, *target, options, a.slot->name);
    } catch (...) {
      set.remove(new_name);
      throw;
    }
  }
  return result;
}

}  // namespace axl::peft
