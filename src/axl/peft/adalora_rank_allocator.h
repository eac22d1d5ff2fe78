#pragma once
// AdaLoRA's rank allocator (PEFT's RankAllocator + AdaLoraModel.update_and_allocate): after each
// optimizer step it smooths every adapter value's sensitivity |p * grad| (EMA beta1) and its
// uncertainty (EMA beta2), scores each singular triplet (E_i, row i of A, column i of B), and
// on the budget schedule zeroes the lowest-scoring E_i until the total rank fits the budget:
// init_r per layer until tinit, a cubic decrease to target_r per layer at total_step - tfinal,
// where the final pattern is fixed and re-applied after every later step.
#include <ATen/ATen.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace axl::peft {

struct AdaLoraTriplet {
  std::string name;  // module path
  at::Tensor a, e, b;  // the live tensors: A [r, in], E [r, 1], B [out, r]
};

struct RankSchedule {
  int64_t target_r = 8, tinit = 0, tfinal = 0, deltaT = 1, total_step = 1;
  double beta1 = 0.85, beta2 = 0.85;
};

class RankAllocator {
 public:
  using Pattern = std::map<std::string, at::Tensor>;  // module path -> kept triplets, bool [r]

  RankAllocator(RankSchedule schedule, std::vector<AdaLoraTriplet> triplets);

  // The budget (total rank) at `step` and whether the triplets get masked at it.
  std::pair<int64_t, bool> budget_schedule(int64_t step) const;
  // After optimizer step `global_step` (from 1), gradients still present. `current` is the last
  // pattern (re-applied once the final one is fixed). Returns the new pattern when it masked.
  std::optional<Pattern> step(int64_t global_step, const Pattern& current);

  void set_total_step(int64_t total_step) { schedule_.total_step = total_step; }
  const RankSchedule& schedule() const { return schedule_; }
  int64_t initial_budget() const { return init_budget_; }
  int64_t target_budget() const { return target_budget_; }

  // The smoothed importances, for an exact resume: "<module>.lora_X.exp_avg_ipt" / ".exp_avg_unc".
  std::map<std::string, at::Tensor> state() const;
  void load_state(const std::map<std::string, at::Tensor>& state);

 private:
  struct Averages {
    at::Tensor ipt, unc;
  };
  void update_importance();
  Pattern mask_to_budget(int64_t budget);
  void apply(const Pattern& pattern);
  at::Tensor score(const std::string& key) const;

  RankSchedule schedule_;
  std::vector<AdaLoraTriplet> triplets_;
  int64_t init_budget_ = 0, target_budget_ = 0;
  std::map<std::string, Averages> averages_;  // by "<module>.lora_A" / lora_E / lora_B
};

}  // namespace axl::peft
