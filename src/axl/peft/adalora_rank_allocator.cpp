#include "axl/peft/adalora_rank_allocator.h"

#include <cmath>

namespace axl::peft {

RankAllocator::RankAllocator(RankSchedule schedule, std::vector<AdaLoraTriplet> triplets)
    : schedule_(schedule), triplets_(std::move(triplets)) {
  for (const auto& t : triplets_) init_budget_ += t.a.size(0);
  target_budget_ = schedule_.target_r * static_cast<int64_t>(triplets_.size());
}

std::pair<int64_t, bool> RankAllocator::budget_schedule(int64_t step) const {
  const int64_t tinit = schedule_.tinit, tfinal = schedule_.tfinal, total = schedule_.total_step;
  if (step <= tinit) return {init_budget_, false};
  if (step > total - tfinal) return {target_budget_, true};
  const double mul = 1.0 - static_cast<double>(step - tinit) / static_cast<double>(total - tfinal - tinit);
  const double budget = static_cast<double>(init_budget_ - target_budget_) * (mul * mul * mul) +
                        static_cast<double>(target_budget_);
  return {static_cast<int64_t>(budget), step % schedule_.deltaT == 0};  // Python's int(): toward zero
}

void RankAllocator::update_importance() {
  at::NoGradGuard no_grad;
  const double b1 = schedule_.beta1, b2 = schedule_.beta2;
  for (const auto& t : triplets_) {
    for (const auto& [suffix, p] : {std::pair<const char*, at::Tensor>{".lora_A", t.a}, {".lora_B", t.b},
                                    {".lora_E", t.e}}) {
      Averages& avg = averages_[t.name + suffix];
      if (!avg.ipt.defined()) {
        avg.ipt = at::zeros_like(p);
        avg.unc = at::zeros_like(p);
      }
      const at::Tensor ipt = p.grad().defined() ? (p * p.grad()).abs() : at::zeros_like(p);
      avg.ipt = avg.ipt * b1 + ipt * (1 - b1);
      avg.unc = avg.unc * b2 + (ipt - avg.ipt).abs() * (1 - b2);
    }
  }
}

at::Tensor RankAllocator::score(const std::string& key) const {
  const Averages& avg = averages_.at(key);
  return avg.ipt * avg.unc;
}

RankAllocator::Pattern RankAllocator::mask_to_budget(int64_t budget) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> scores;  // per triplet, [r]
  for (const auto& t : triplets_) {
    if (!averages_.count(t.name + ".lora_A")) {  // never scored (masking before any update)
      scores.push_back(at::zeros({t.e.size(0)}, t.e.options()));
      continue;
    }
    const at::Tensor a = score(t.name + ".lora_A").mean(1, /*keepdim=*/true);
    const at::Tensor b = score(t.name + ".lora_B").mean(0).view({-1, 1});
    scores.push_back(score(t.name + ".lora_E").view(-1) + at::cat({a, b}, 1).sum(1).view(-1));
  }
  Pattern pattern;
  const int64_t k = init_budget_ - budget;
  const at::Tensor all = scores.empty() ? at::Tensor() : at::cat(scores);
  // The k-th smallest score is the threshold; every triplet at or below it is dropped. PEFT
  // fails for k = 0 (kthvalue's range); nothing is dropped then.
  const bool drop = k > 0 && all.defined() && all.numel() >= k;
  const double threshold = drop ? std::get<0>(at::kthvalue(all, k)).item<double>() : 0.0;
  for (size_t i = 0; i < triplets_.size(); ++i) {
    const at::Tensor s = scores[i];
    pattern[triplets_[i].name] = drop ? at::logical_not(s <= threshold) : at::ones_like(s, s.options().dtype(at::kBool));
  }
  apply(pattern);
  return pattern;
}

void RankAllocator::apply(const Pattern& pattern) {
  at::NoGradGuard no_grad;
  for (auto& t : triplets_) {
    auto it = pattern.find(t.name);
    if (it == pattern.end()) continue;
    t.e.masked_fill_(at::logical_not(it->second.to(t.e.device())).view({-1, 1}), 0.0);
  }
}

std::optional<RankAllocator::Pattern> RankAllocator::step(int64_t global_step, const Pattern& current) {
  const int64_t final_step = schedule_.total_step - schedule_.tfinal;
  if (global_step < final_step) {
    update_importance();
    auto [budget, mask] = budget_schedule(global_step);
    if (mask) return mask_to_budget(budget);
    return std::nullopt;
  }
  if (global_step == final_step) {
    // The final allocation, to the target budget, with the importances gathered so far.
    Pattern pattern = mask_to_budget(budget_schedule(global_step).first);
    averages_.clear();
    return pattern;
  }
  apply(current);  // the fixed final pattern: masked triplets stay zero while the rest trains
  return std::nullopt;
}

std::map<std::string, at::Tensor> RankAllocator::state() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [key, avg] : averages_) {
    out[key + ".exp_avg_ipt"] = avg.ipt;
    out[key + ".exp_avg_unc"] = avg.unc;
  }
  return out;
}

void RankAllocator::load_state(const std::map<std::string, at::Tensor>& state) {
  averages_.clear();
  const std::string ipt = ".exp_avg_ipt", unc = ".exp_avg_unc";
  for (const auto& [key, t] : state) {
    if (key.size() <= ipt.size() || key.compare(key.size() - ipt.size(), ipt.size(), ipt) != 0) continue;
    const std::string name = key.substr(0, key.size() - ipt.size());
    auto u = state.find(name + unc);
    if (u == state.end()) continue;
    averages_[name] = {t.clone(), u->second.clone()};
  }
}

}  // namespace axl::peft
