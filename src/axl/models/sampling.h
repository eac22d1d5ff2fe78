#pragma once
// Choosing the next token from a row of logits, as transformers' generate does: repetition
// penalty, then temperature, top-k and top-p warpers, then a draw; temperature 0 is argmax.
// Sampling runs on the CPU with our own generator so a seed gives the same ids on any device.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace axl::models {

struct SamplingOptions {
  double temperature = 0.0;  // 0: greedy
  int64_t top_k = 0;         // 0: off
  double top_p = 1.0;        // 1: off
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opts);
  // logits: [V] (any device/dtype); history: every id so far (prompt included).
  int64_t next(const at::Tensor& logits, const std::vector<int64_t>& history);

 private:
  SamplingOptions opts_;
  at::Generator gen_;
};

}  // namespace axl::models
