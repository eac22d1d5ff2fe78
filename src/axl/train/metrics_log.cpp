#include "axl/train/metrics_log.h"

#include "axl/core/error.h"

namespace axl::train {

nlohmann::json StepRecord::to_json() const {
  nlohmann::json j = {{"step", step},          {"epoch", epoch},
                      {"loss", loss},          {"learning_rate", learning_rate},
                      {"tokens", tokens},      {"tokens_per_s", tokens_per_s}};
  j["grad_norm"] = grad_norm ? nlohmann::json(*grad_norm) : nlohmann::json(nullptr);
  if (memory_bytes) j["memory_bytes"] = *memory_bytes;
  if (skipped) j["skipped"] = true;
  return j;
}

MetricsLog::MetricsLog(const std::string& path, bool append)
    : path_(path), out_(path, append ? std::ios::app : std::ios::trunc) {
  if (!out_) throw axl::Error(path + ": cannot open the metrics log for writing");
}

void MetricsLog::write(const nlohmann::json& record) {
  // NaN is not JSON: nlohmann writes null for it, which readers then see as missing.
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) throw axl::Error(path_ + ": writing the metrics log failed");
}

}  // namespace axl::train
