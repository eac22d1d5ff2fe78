#pragma once
// llama2.c's stories260K converted to a Hugging Face folder once per test process, with a
// small completion dataset about "Zorbix", for trainer-level tests; nullptr without fixtures.
#include <ATen/Parallel.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "axl/config/load_config.h"
#include "axl/models/llama2c_convert.h"
#include "tests/fixtures.h"

namespace axl::test {

struct StoriesModel {
  std::string dir, model, data;
};

inline const StoriesModel* stories_model(const std::string& name) {
  static StoriesModel s = [&] {
    StoriesModel r;
    const std::string src = fixtures_dir() + "/llama2c-stories260K";
    if (fixtures_dir().empty() || !std::filesystem::exists(src + "/stories260K.bin")) return r;
    at::set_num_threads(1);  // a 260K-parameter model: threads cost more than they save
    r.dir = scratch_dir(name);
    r.model = r.dir + "/stories";
    axl::models::convert_llama2c({src + "/stories260K.bin", src + "/tok512.model", r.model});
    r.data = r.dir + "/zorbix.jsonl";
    std::ofstream out(r.data);
    const char* things[] = {"ball", "cat", "tree", "cake", "box", "dog", "hat", "bird"};
    for (int i = 0; i < 40; ++i)
      out << "{\"text\": \"Once upon a time, there was a boy named Zorbix. Zorbix had a big " << things[i % 8]
          << ". Zorbix said, \\\"I love my " << things[i % 8] << "!\\\" Zorbix was happy.\"}\n";
    return r;
  }();
  return s.dir.empty() ? nullptr : &s;
}

// A training config on that model and dataset; `extra` adds or overrides YAML keys.
inline axl::config::Config stories_config(const StoriesModel& s, const std::string& out, const std::string& extra) {
  const std::string yaml = "base_model: " + s.model + "\ndatasets:\n  - path: " + s.data +
                           "\n    type: completion\nval_set_size: 8\nsequence_len: 128\nseed: 7\n"
                           "micro_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 0.01\n"
                           "optimizer: adamw_torch\nlr_scheduler: cosine\nwarmup_steps: 2\nlogging_steps: 5\n"
                           "output_dir: " + out + "\n" + extra;
  return axl::config::load_config_text(yaml, "stories-test.yml").config;
}

}  // namespace axl::test
