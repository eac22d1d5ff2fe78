#include "axl/data/data_cursor.h"

#include <algorithm>

#include "axl/core/error.h"

namespace axl::data {

nlohmann::json DataPosition::to_json() const {
  return {{"epoch", epoch}, {"micro_batch", micro_batch}, {"seed", seed}, {"records", records},
          {"micro_batches_per_epoch", micro_batches_per_epoch}};
}

DataPosition DataPosition::from_json(const nlohmann::json& j, const std::string& where) {
  DataPosition p;
  try {
    p.epoch = j.at("epoch").get<int64_t>();
    p.micro_batch = j.at("micro_batch").get<int64_t>();
    p.seed = j.at("seed").get<uint64_t>();
    p.records = j.at("records").get<uint64_t>();
    p.micro_batches_per_epoch = j.at("micro_batches_per_epoch").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": malformed data position (" + e.what() + ")");
  }
  if (p.epoch < 0 || p.micro_batch < 0) throw Error(where + ": negative data position");
  return p;
}

bool DataPosition::operator==(const DataPosition& o) const {
  return epoch == o.epoch && micro_batch == o.micro_batch && seed == o.seed && records == o.records &&
         micro_batches_per_epoch == o.micro_batches_per_epoch;
}

DataCursor::DataCursor(uint64_t micro_batches_per_epoch, int64_t grad_accum, uint64_t seed, uint64_t records)
    : grad_accum_(std::max<int64_t>(1, grad_accum)) {
  if (micro_batches_per_epoch == 0) throw Error("no training micro-batches: the dataset is empty");
  pos_.seed = seed;
  pos_.records = records;
  pos_.micro_batches_per_epoch = micro_batches_per_epoch;
}

int64_t DataCursor::steps_per_epoch() const {
  const auto m = static_cast<int64_t>(pos_.micro_batches_per_epoch);
  return (m + grad_accum_ - 1) / grad_accum_;
}

std::vector<std::pair<int64_t, size_t>> DataCursor::next_step() {
  const auto per_epoch = static_cast<int64_t>(pos_.micro_batches_per_epoch);
  std::vector<std::pair<int64_t, size_t>> out;
  for (int64_t i = 0; i < grad_accum_ && pos_.micro_batch < per_epoch; ++i)
    out.emplace_back(pos_.epoch, static_cast<size_t>(pos_.micro_batch++));
  if (pos_.micro_batch >= per_epoch) {  // the epoch's last (possibly shorter) step
    ++pos_.epoch;
    pos_.micro_batch = 0;
  }
  return out;
}

void DataCursor::restore(const DataPosition& saved, const std::string& where) {
  auto differ = [&](const std::string& then, const std::string& now) {
    return Error(where + ": the checkpoint's data position is for " + then + ", this run has " + now +
                 "; the prepared data changed since it was saved, so resuming would repeat or skip samples "
                 "(restore the data and config, or start a new run)");
  };
  using std::to_string;
  if (saved.records != pos_.records)
    throw differ(to_string(saved.records) + " training samples", to_string(pos_.records));
  if (saved.micro_batches_per_epoch != pos_.micro_batches_per_epoch)
    throw differ(to_string(saved.micro_batches_per_epoch) + " micro-batches per epoch",
                 to_string(pos_.micro_batches_per_epoch));
  if (saved.seed != pos_.seed) throw differ("seed " + to_string(saved.seed), "seed " + to_string(pos_.seed));
  if (saved.micro_batch < 0 || static_cast<uint64_t>(saved.micro_batch) >= pos_.micro_batches_per_epoch)
    throw Error(where + ": data position micro-batch " + std::to_string(saved.micro_batch) + " is past the epoch's " +
                std::to_string(pos_.micro_batches_per_epoch));
  pos_.epoch = saved.epoch;
  pos_.micro_batch = saved.micro_batch;
}

void DataCursor::seek_to_step(int64_t global_step) {
  const int64_t spe = steps_per_epoch();
  pos_.epoch = global_step / spe;
  pos_.micro_batch = global_step % spe * grad_accum_;
}

}  // namespace axl::data
