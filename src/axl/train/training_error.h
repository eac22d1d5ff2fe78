#pragma once
// A failure the trainer reports and stops on (non-finite loss or gradient norm): a user-facing
// error (bad data, too high a learning rate), so it derives from axl::Error, and it carries
// where it happened so the report can name the optimizer step and the micro-batch.
#include <cstdint>
#include <string>

#include "axl/core/error.h"

namespace axl::train {

class TrainingError : public axl::Error {
 public:
  // micro_batch < 0: detected after the accumulation (the gradient norm), not in one micro-batch.
  TrainingError(const std::string& what, int64_t step, int64_t micro_batch)
      : axl::Error(describe(what, step, micro_batch)), step(step), micro_batch(micro_batch) {}
  int64_t step;
  int64_t micro_batch;

 private:
  static std::string describe(const std::string& what, int64_t step, int64_t micro_batch) {
    std::string where = "training step " + std::to_string(step);
    if (micro_batch >= 0) where += ", micro-batch " + std::to_string(micro_batch);
    return where + ": " + what;
  }
};

}  // namespace axl::train
