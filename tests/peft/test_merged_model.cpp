// The merged-model writer: huggingface_hub's shard plan, and sharded folders (index, dtype in
// config.json, stale weight files removed) that our loader reads back bit-equal.
#include <gtest/gtest.h>

#include <filesystem>

#include "axl/core/json_file.h"
#include "axl/models/loader.h"
#include "axl/peft/merged_model.h"
#include "tests/fixtures.h"

namespace {

namespace fs = std::filesystem;
using axl::peft::plan_shards;
using Plan = std::vector<std::vector<size_t>>;

TEST(PlanShards, FollowsHuggingFaceHubOrder) {
  // huggingface_hub's documented example: [6, 6, 2, 6, 2, 2] with a limit of 10.
  EXPECT_EQ(plan_shards({6, 6, 2, 6, 2, 2}, 10), (Plan{{0}, {1, 2}, {3, 4, 5}}));
  // A tensor over the limit gets its own shard at once; the open shard keeps filling.
  EXPECT_EQ(plan_shards({3, 20, 3}, 10), (Plan{{1}, {0, 2}}));
  EXPECT_EQ(plan_shards({4, 6}, 10), (Plan{{0, 1}}));  // exactly the limit fits
  EXPECT_EQ(plan_shards({}, 10), Plan{});
}

TEST(SaveMergedModel, ShardsLoadBackBitEqual) {
  AXL_REQUIRE_FIXTURE(base, "hf-tiny/LlamaForCausalLM");
  axl::models::CausalLM model = axl::models::load_causal_lm(base);
  const std::string out = axl::test::scratch_dir("merged-shards");
  axl::peft::save_merged_model(model, base, out);  // one file first: the sharded save must remove it
  ASSERT_TRUE(fs::exists(out + "/model.safetensors"));

  int64_t total = 0;
  for (const auto& [name, t] : model.named_tensors()) total += t.numel() * 4;
  axl::peft::MergedSaveOptions so;
  so.max_shard_bytes = total / 3;
  axl::peft::save_merged_model(model, base, out, so);
  EXPECT_FALSE(fs::exists(out + "/model.safetensors"));
  const nlohmann::json index = axl::read_json_file(out + "/model.safetensors.index.json");
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), total);
  const auto& map = index["weight_map"];
  EXPECT_EQ(map.size(), model.named_tensors().size());
  size_t shards = 0;
  for (const auto& e : fs::directory_iterator(out)) shards += e.path().filename().string().rfind("model-", 0) == 0;
  EXPECT_GE(shards, 3u);
  EXPECT_EQ(map["model.embed_tokens.weight"].get<std::string>(),
            "model-00001-of-0000" + std::to_string(shards) + ".safetensors");

  axl::models::CausalLM back = axl::models::load_causal_lm(out);
  auto a = model.named_tensors(), b = back.named_tensors();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;

  so.dtype = at::kBFloat16;
  so.max_shard_bytes = 50'000'000'000;
  axl::peft::save_merged_model(model, base, out, so);
  EXPECT_FALSE(fs::exists(out + "/model.safetensors.index.json"));
  EXPECT_EQ(axl::read_json_file(out + "/config.json")["dtype"], "bfloat16");
  axl::models::LoadOptions lo;
  lo.dtype = at::kBFloat16;
  axl::models::CausalLM half = axl::models::load_causal_lm(out, lo);
  auto h = half.named_tensors();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second.to(at::kBFloat16), h[i].second)) << a[i].first;
}

}  // namespace
