#pragma once
// Where training is in its data: the epoch and the next micro-batch within it, plus what the
// position is only valid for (seed, record count, micro-batches per epoch). The trainer saves
// it in each checkpoint's trainer_state.json and continues from it on resume, so a resumed
// run sees exactly the micro-batches a straight run would have seen after that point, and a
// resume onto changed data stops with an error instead of repeating or skipping samples.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace axl::data {

struct DataPosition {
  int64_t epoch = 0;
  int64_t micro_batch = 0;  // the next micro-batch of `epoch`
  uint64_t seed = 0;
  uint64_t records = 0;                // training records the order is over
  uint64_t micro_batches_per_epoch = 0;

  nlohmann::json to_json() const;
  // Throws axl::Error naming `where` for a malformed entry.
  static DataPosition from_json(const nlohmann::json& j, const std::string& where);
  bool operator==(const DataPosition& o) const;
};

// Hands out micro-batches step by step: up to `grad_accum` per optimizer step, an epoch's
// last step holding the remainder, then the next epoch from its first micro-batch.
class DataCursor {
 public:
  DataCursor(uint64_t micro_batches_per_epoch, int64_t grad_accum, uint64_t seed, uint64_t records);

  // (epoch, micro-batch index) of the next optimizer step's micro-batches; advances.
  std::vector<std::pair<int64_t, size_t>> next_step();
  DataPosition position() const { return pos_; }
  int64_t steps_per_epoch() const;

  // Continues from a saved position. Throws axl::Error naming `where` when it was saved for
  // other data (seed, record count or micro-batches per epoch differ) or lies past an epoch.
  void restore(const DataPosition& saved, const std::string& where);
  // The position after `global_step` steps from the start (checkpoints without a position).
  void seek_to_step(int64_t global_step);

 private:
  DataPosition pos_;
  int64_t grad_accum_;
};

}  // namespace axl::data
