// Generation: the converted stories260K reproduces llama2.c's greedy output token for token;
// the KV-cache path equals a full recompute; sampling is seeded and respects its warpers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "axl/core/json_file.h"
#include "axl/models/generation.h"
#include "axl/models/llama2c_convert.h"
#include "axl/models/loader.h"
#include "tests/fixtures.h"

namespace {

std::string converted_stories(const std::string& fixture) {
  static std::string dir;
  if (dir.empty()) {
    dir = axl::test::scratch_dir("stories260K-hf");
    axl::models::convert_llama2c({fixture + "/stories260K.bin", fixture + "/tok512.model", dir});
  }
  return dir;
}

TEST(Generation, Stories260KGreedyMatchesLlama2c) {
  AXL_REQUIRE_FIXTURE(fixture, "llama2c-stories260K");
  AXL_REQUIRE_FIXTURE(golden_path, "golden/stories260K_greedy_256.json");
  auto golden = axl::read_json_file(golden_path);
  std::vector<int64_t> expected = golden["generated_ids"].get<std::vector<int64_t>>();
  auto model = axl::models::load_causal_lm(converted_stories(fixture));
  axl::models::GenerateOptions opts;
  opts.max_new_tokens = static_cast<int64_t>(expected.size());
  opts.stop_at_eos = false;
  auto ids = axl::models::generate(model, {1}, opts);
  ASSERT_EQ(ids.size(), expected.size());
  int first_diff = -1;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] != expected[i]) { first_diff = static_cast<int>(i); break; }
  EXPECT_EQ(first_diff, -1) << "first mismatch at generated position " << first_diff;
}

TEST(Generation, CachedLogitsEqualFullRecompute) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/MistralForCausalLM");
  auto model = axl::models::load_causal_lm(dir);
  c10::InferenceMode guard;
  at::Tensor ids = at::randint(0, 256, {1, 12}, at::kLong);
  axl::models::ForwardInput full;
  full.input_ids = ids;
  at::Tensor ref = model.forward(full).logits;
  auto cache = model.make_cache(1, 12);
  std::vector<at::Tensor> pieces;
  for (int64_t start : {0, 5, 6, 11}) {
    int64_t len = start == 0 ? 5 : (start == 6 ? 5 : 1);
    axl::models::ForwardInput step;
    step.input_ids = ids.narrow(1, start, len);
    step.cache = &cache;
    pieces.push_back(model.forward(step).logits);
  }
  at::Tensor cached = at::cat(pieces, 1);
  EXPECT_LE((cached - ref).abs().max().item<double>(), 1e-5);
}

TEST(Generation, SamplingIsSeededAndTopKOneIsGreedy) {
  AXL_REQUIRE_FIXTURE(fixture, "llama2c-stories260K");
  auto model = axl::models::load_causal_lm(converted_stories(fixture));
  axl::models::GenerateOptions opts;
  opts.max_new_tokens = 40;
  opts.stop_at_eos = false;
  opts.sampling.temperature = 1.0;
  opts.sampling.seed = 7;
  auto a = axl::models::generate(model, {1}, opts);
  auto b = axl::models::generate(model, {1}, opts);
  EXPECT_EQ(a, b);
  opts.sampling.seed = 8;
  auto c = axl::models::generate(model, {1}, opts);
  EXPECT_NE(a, c);
  opts.sampling.top_k = 1;
  auto greedy_like = axl::models::generate(model, {1}, opts);
  axl::models::GenerateOptions greedy = opts;
  greedy.sampling = {};
  EXPECT_EQ(greedy_like, axl::models::generate(model, {1}, greedy));
}

TEST(Generation, TopPKeepsOnlyTheNucleus) {
  // Logits where token 3 holds ~97% of the mass: top_p 0.9 must always pick it.
  at::Tensor logits = at::zeros({8});
  logits[3] = 8.0;
  axl::models::SamplingOptions s;
  s.temperature = 1.0;
  s.top_p = 0.9;
  axl::models::Sampler sampler(s);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sampler.next(logits, {}), 3);
}

TEST(Generation, RepetitionPenaltyDemotesSeenTokens) {
  at::Tensor logits = at::tensor({2.0f, 1.9f, -1.0f});
  axl::models::SamplingOptions s;
  s.repetition_penalty = 1.5;
  axl::models::Sampler sampler(s);
  EXPECT_EQ(sampler.next(logits, {0}), 1);  // 2.0 / 1.5 < 1.9
}

}  // namespace
