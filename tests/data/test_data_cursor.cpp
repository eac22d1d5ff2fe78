// The data position saved in checkpoints: a run resumed from any step sees exactly the
// micro-batches (so the records) a straight run sees after that step, across epochs, and a
// position saved for other data is refused.
#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/data/data_cursor.h"
#include "axl/data/prepare.h"

namespace {

using axl::data::DataCursor;
using axl::data::DataPosition;

constexpr size_t kRecords = 23, kMicroBatch = 3;  // 8 micro-batches per epoch, the last of 2 records
constexpr int64_t kAccum = 3;                     // 3 steps per epoch, the last of 2 micro-batches
constexpr uint64_t kSeed = 42;

// The records of micro-batch (epoch, index): a seeded per-epoch order cut into micro-batches.
std::vector<size_t> records_of(int64_t epoch, size_t index) {
  const auto order = axl::data::seeded_permutation(kRecords, kSeed * 1000 + static_cast<uint64_t>(epoch));
  const size_t begin = index * kMicroBatch, end = std::min(kRecords, begin + kMicroBatch);
  return std::vector<size_t>(order.begin() + begin, order.begin() + end);
}

std::vector<size_t> run_steps(DataCursor& cursor, int64_t steps) {
  std::vector<size_t> seen;
  for (int64_t s = 0; s < steps; ++s)
    for (const auto& [epoch, index] : cursor.next_step()) {
      const auto r = records_of(epoch, index);
      seen.insert(seen.end(), r.begin(), r.end());
    }
  return seen;
}

DataCursor fresh() { return DataCursor((kRecords + kMicroBatch - 1) / kMicroBatch, kAccum, kSeed, kRecords); }

TEST(DataCursor, ResumeSeesExactlyTheRemainingRecords) {
  constexpr int64_t kTotalSteps = 10;  // three epochs and a bit
  DataCursor straight_cursor = fresh();
  EXPECT_EQ(straight_cursor.steps_per_epoch(), 3);
  const std::vector<size_t> straight = run_steps(straight_cursor, kTotalSteps);
  EXPECT_EQ(straight.size(), 3 * kRecords + 9);
  // Every epoch is a permutation of all records.
  for (size_t e = 0; e < 3; ++e) {
    std::vector<size_t> epoch(straight.begin() + e * kRecords, straight.begin() + (e + 1) * kRecords);
    std::sort(epoch.begin(), epoch.end());
    for (size_t i = 0; i < kRecords; ++i) ASSERT_EQ(epoch[i], i);
  }
  for (int64_t stop = 1; stop < kTotalSteps; ++stop) {
    DataCursor first = fresh();
    std::vector<size_t> seen = run_steps(first, stop);
    // Saved as the checkpoint's trainer_state.json holds it, and read back.
    const std::string saved = first.position().to_json().dump();
    const DataPosition back = DataPosition::from_json(nlohmann::json::parse(saved), "trainer_state.json");
    EXPECT_EQ(back, first.position());
    DataCursor resumed = fresh();
    resumed.restore(back, "trainer_state.json");
    const std::vector<size_t> rest = run_steps(resumed, kTotalSteps - stop);
    seen.insert(seen.end(), rest.begin(), rest.end());
    EXPECT_EQ(seen, straight) << "resumed after step " << stop;
    // The step count alone gives the same position (older checkpoints).
    DataCursor by_step = fresh();
    by_step.seek_to_step(stop);
    EXPECT_EQ(by_step.position(), first.position()) << stop;
  }
  DataCursor c = fresh();
  run_steps(c, 4);
  EXPECT_EQ(c.position().epoch, 1);
  EXPECT_EQ(c.position().micro_batch, 3);
}

TEST(DataCursor, RefusesAPositionOfOtherData) {
  DataCursor c = fresh();
  run_steps(c, 2);
  const DataPosition saved = c.position();
  auto expect_refused = [&](DataCursor other, const std::string& what) {
    try {
      other.restore(saved, "ckpt/trainer_state.json");
      ADD_FAILURE() << "no error for " << what;
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("ckpt/trainer_state.json"), std::string::npos) << e.what();
    }
  };
  expect_refused(DataCursor(8, kAccum, kSeed, kRecords + 1), "23 training samples");
  expect_refused(DataCursor(9, kAccum, kSeed, kRecords), "8 micro-batches per epoch");
  expect_refused(DataCursor(8, kAccum, kSeed + 1, kRecords), "seed 42");
  DataPosition past = saved;
  past.micro_batch = 8;
  EXPECT_THROW(fresh().restore(past, "x"), axl::Error);
  EXPECT_THROW(DataPosition::from_json(nlohmann::json{{"epoch", 1}}, "x"), axl::Error);
  EXPECT_THROW(DataCursor(0, 1, 1, 0), axl::Error);
}

}  // namespace
