#pragma once
// The metrics sink: one JSON object per line (step, loss, lr, grad_norm, tokens_per_s,
// memory), appended and flushed per record so a crashed run keeps what it logged.
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace axl::train {

struct StepRecord {
  int64_t step = 0;
  double epoch = 0.0;
  double loss = 0.0;
  double learning_rate = 0.0;
  std::optional<double> grad_norm;
  double tokens_per_s = 0.0;
  int64_t tokens = 0;
  std::optional<int64_t> memory_bytes;  // peak device memory where known
  bool skipped = false;                 // fp16 overflow: no optimizer step
  nlohmann::json to_json() const;
};

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path, bool append = false);  // throws axl::Error
  void write(const nlohmann::json& record);
  void write(const StepRecord& r) { write(r.to_json()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace axl::train
