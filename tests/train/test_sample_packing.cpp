// Sample packing: first-fit-decreasing known answers, efficiency on the fixture Alpaca data,
// packed rows (labels, positions, cu_seqlens), a packed row's loss and LoRA gradients equal
// to the token-weighted unpacked ones, attention never crossing a sample boundary, and a
// packed training run whose step count is known before it starts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "axl/config/load_config.h"
#include "axl/core/torch_compat.h"
#include "axl/core/error.h"
#include "axl/data/prepare.h"
#include "axl/data/sample_packing.h"
#include "axl/kernels/attention.h"
#include "axl/models/loader.h"
#include "axl/peft/lora.h"
#include "axl/tokenizer/tokenizer.h"
#include "axl/train/activation_checkpoint.h"
#include "axl/train/batcher.h"
#include "axl/train/token_loss.h"
#include "axl/train/trainer.h"
#include "tests/fixtures.h"
#include "tests/train/stories_model.h"

namespace {

using axl::data::pack_first_fit_decreasing;
using axl::data::PackingPlan;
using axl::train::Batcher;
using axl::train::BatcherOptions;
using axl::train::MicroBatch;

// The textbook O(n x bins) first-fit decreasing the tree-based one must agree with.
std::vector<std::vector<size_t>> naive_ffd(const std::vector<size_t>& lengths, size_t capacity, size_t max_items) {
  std::vector<size_t> order;
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i] > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> bins;
  std::vector<size_t> used;
  for (size_t s : order) {
    size_t b = 0;
    while (b < bins.size() && (used[b] + lengths[s] > capacity || (max_items && bins[b].size() >= max_items))) ++b;
    if (b == bins.size()) {
      bins.emplace_back();
      used.push_back(0);
    }
    bins[b].push_back(s);
    used[b] += lengths[s];
  }
  return bins;
}

TEST(SamplePacking, FirstFitDecreasingKnownAnswer) {
  // Sorted: 5(0) 4(1) 3(2) 3(3) 2(4) 2(5) 1(6). 5 opens bin 0, 4 opens bin 1, 3 fills bin 0,
  // 3 goes to bin 1 (room 1 left), 2 and 2 open and share bin 2, 1 fills bin 1.
  PackingPlan p = pack_first_fit_decreasing({5, 4, 3, 3, 2, 2, 1}, 8);
  ASSERT_EQ(p.bins.size(), 3u);
  EXPECT_EQ(p.bins[0], (std::vector<size_t>{0, 2}));
  EXPECT_EQ(p.bins[1], (std::vector<size_t>{1, 3, 6}));
  EXPECT_EQ(p.bins[2], (std::vector<size_t>{4, 5}));
  EXPECT_EQ(p.packed_tokens, 20u);
  EXPECT_DOUBLE_EQ(p.efficiency(), 20.0 / 24.0);

  // Ties keep index order; empty samples are skipped; a bin-size limit opens new bins.
  PackingPlan q = pack_first_fit_decreasing({2, 0, 2, 2, 2}, 8, /*max_samples_per_bin=*/2);
  ASSERT_EQ(q.bins.size(), 2u);
  EXPECT_EQ(q.bins[0], (std::vector<size_t>{0, 2}));
  EXPECT_EQ(q.bins[1], (std::vector<size_t>{3, 4}));
  EXPECT_EQ(q.skipped_samples, 1u);
  EXPECT_DOUBLE_EQ(q.efficiency(), 0.5);

  // Exactly full bins, and a sample as long as a row.
  PackingPlan f = pack_first_fit_decreasing({8, 6, 2, 7, 1}, 8);
  ASSERT_EQ(f.bins.size(), 3u);
  EXPECT_DOUBLE_EQ(f.efficiency(), 1.0);
  EXPECT_EQ(f.bins[1], (std::vector<size_t>{3, 4}));

  EXPECT_THROW(pack_first_fit_decreasing({3, 9}, 8), axl::Error);
  EXPECT_THROW(pack_first_fit_decreasing({3}, 0), axl::Error);
  EXPECT_TRUE(pack_first_fit_decreasing({}, 8).bins.empty());
}

TEST(SamplePacking, AgreesWithTheTextbookFirstFitDecreasing) {
  std::mt19937 rng(11);
  for (size_t max_items : {size_t{0}, size_t{3}}) {
    std::vector<size_t> lengths(3000);
    for (auto& l : lengths) l = std::uniform_int_distribution<size_t>(0, 300)(rng);
    PackingPlan p = pack_first_fit_decreasing(lengths, 512, max_items);
    EXPECT_EQ(p.bins, naive_ffd(lengths, 512, max_items));
    std::set<size_t> seen;
    for (const auto& bin : p.bins) {
      size_t used = 0;
      for (size_t s : bin) used += lengths[s];
      EXPECT_LE(used, 512u);
      seen.insert(bin.begin(), bin.end());
    }
    EXPECT_EQ(seen.size() + p.skipped_samples, lengths.size());
  }
}

axl::data::TokenizedStore records(const std::vector<int>& lengths, int prompt = 2) {
  axl::data::TokenizedStore store;
  for (size_t i = 0; i < lengths.size(); ++i) {
    std::vector<int32_t> ids, labels;
    for (int j = 0; j < lengths[i]; ++j) {
      ids.push_back(static_cast<int32_t>(10 * (i + 1) + j));
      labels.push_back(j < prompt ? -100 : static_cast<int32_t>(10 * (i + 1) + j));
    }
    store.append(ids, labels);
  }
  return store;
}

TEST(SamplePacking, PackedRowsRestartPositionsAndMaskFirstLabels) {
  auto store = records({5, 3, 6, 2}, /*prompt=*/1);  // sorted 6(2) 5(0) 3(1) 2(3); capacity 2 x 5 = 10
  BatcherOptions o;
  o.micro_batch_size = 2;
  o.sequence_len = 5;
  o.sample_packing = true;
  o.pad_id = 0;
  o.shuffle = false;
  Batcher b(store, o);
  ASSERT_EQ(b.micro_batches_per_epoch(), 2u);  // {2, 1}: 9 tokens, {0, 3}: 7 tokens
  EXPECT_DOUBLE_EQ(b.packing_plan().efficiency(), 16.0 / 20.0);
  MicroBatch mb = b.micro_batch(0, 1);
  ASSERT_EQ(mb.input_ids.sizes(), (std::vector<int64_t>{1, 10}));
  auto ids = mb.input_ids[0], labels = mb.labels[0], pos = mb.position_ids[0];
  const std::vector<int64_t> want_ids{10, 11, 12, 13, 14, 40, 41, 0, 0, 0};
  const std::vector<int64_t> want_labels{-100, 11, 12, 13, 14, -100, 41, -100, -100, -100};
  const std::vector<int64_t> want_pos{0, 1, 2, 3, 4, 0, 1, 0, 1, 2};
  for (int64_t j = 0; j < 10; ++j) {
    EXPECT_EQ(ids[j].item<int64_t>(), want_ids[static_cast<size_t>(j)]) << j;
    EXPECT_EQ(labels[j].item<int64_t>(), want_labels[static_cast<size_t>(j)]) << j;
    EXPECT_EQ(pos[j].item<int64_t>(), want_pos[static_cast<size_t>(j)]) << j;
  }
  EXPECT_EQ(mb.cu_seqlens.scalar_type(), at::kInt);
  const std::vector<int32_t> want_cu{0, 5, 7, 10};
  ASSERT_EQ(mb.cu_seqlens.numel(), 4);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(mb.cu_seqlens[i].item<int32_t>(), want_cu[static_cast<size_t>(i)]);
  EXPECT_EQ(mb.attention_mask.sum().item<int64_t>(), 7);

  // A label on the first token of a sample is never trained (it would be predicted from the
  // previous sample): sample 0 below trains every label.
  axl::data::TokenizedStore all;
  all.append({1, 2, 3}, {1, 2, 3});
  all.append({4, 5}, {4, 5});
  o.sequence_len = 3;
  o.pad_to_sequence_len = false;
  Batcher c(all, o);
  MicroBatch row = c.micro_batch(0, 0);
  EXPECT_EQ(row.labels[0][0].item<int64_t>(), -100);
  EXPECT_EQ(row.labels[0][3].item<int64_t>(), -100);
  EXPECT_EQ(row.labels[0][4].item<int64_t>(), 5);
  EXPECT_EQ(row.input_ids.size(1), 6);  // not padded to 64 beyond the capacity

  // A sample longer than a row is one clear error; shuffled epochs reorder whole rows.
  EXPECT_THROW(Batcher(records({11}), o), axl::Error);
  o.shuffle = true;
  Batcher d(store, [&] { auto p = o; p.sequence_len = 5; p.pad_to_sequence_len = true; return p; }());
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    auto order = d.epoch_order(epoch);
    EXPECT_EQ(std::set<size_t>(order.begin(), order.end()), (std::set<size_t>{0, 1}));
  }
}

// group_by_length: every record once per epoch, each mega-batch (here 50 x 2 records over 400:
// min(400 / 8, 50) batches of micro-batch 2 x accumulation 1) sorted longest first, still
// seeded by epoch; padding over the epoch falls.
TEST(GroupByLength, MegaBatchesSortedLongestFirstAndLessPadding) {
  std::vector<int> lengths;
  for (int i = 0; i < 400; ++i) lengths.push_back(2 + (i * 37) % 97);
  auto store = records(lengths, /*prompt=*/1);
  BatcherOptions o;
  o.micro_batch_size = 2;
  Batcher plain(store, o);
  o.group_by_length = true;
  Batcher grouped(store, o);
  for (int64_t epoch : {0, 1}) {
    const auto order = grouped.epoch_order(epoch), plain_order = plain.epoch_order(epoch);
    std::vector<size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
    for (size_t begin = 0; begin < order.size(); begin += 100) {
      // Each mega-batch holds what the plain permutation holds there, sorted longest first.
      std::vector<size_t> want(plain_order.begin() + static_cast<std::ptrdiff_t>(begin),
                               plain_order.begin() + static_cast<std::ptrdiff_t>(begin + 100));
      std::vector<size_t> got(order.begin() + static_cast<std::ptrdiff_t>(begin),
                              order.begin() + static_cast<std::ptrdiff_t>(begin + 100));
      for (size_t i = 1; i < got.size(); ++i) EXPECT_GE(lengths[got[i - 1]], lengths[got[i]]);
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want);
    }
  }
  EXPECT_NE(grouped.epoch_order(0), grouped.epoch_order(1));
  // With gradient accumulation the Trainer's batch is micro x accumulation: B = 8 gives
  // mega-batches of 8 x min(400 / 32, 50) = 96 records.
  o.length_group_batch = 8;
  const auto by96 = Batcher(store, o).epoch_order(0);
  for (size_t i = 1; i < by96.size(); ++i)
    if (i % 96 != 0) EXPECT_GE(lengths[by96[i - 1]], lengths[by96[i]]) << i;
  bool unsorted_at_a_boundary = false;
  for (size_t i = 96; i < by96.size(); i += 96) unsorted_at_a_boundary |= lengths[by96[i - 1]] < lengths[by96[i]];
  EXPECT_TRUE(unsorted_at_a_boundary);  // each mega-batch sorted on its own, not the epoch
  auto padded = [&](Batcher& b) {
    int64_t pad = 0;
    for (size_t i = 0; i < b.micro_batches_per_epoch(); ++i) {
      const auto mb = b.micro_batch(0, i);
      pad += mb.attention_mask.numel() - mb.attention_mask.sum().item<int64_t>();
    }
    return pad;
  };
  EXPECT_LT(padded(grouped) * 4, padded(plain));
}

TEST(SamplePacking, AlpacaAtSequenceLen512PacksAtLeast95Percent) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/llama3");
  AXL_REQUIRE_FIXTURE(data, "datasets/alpaca/stanford_alpaca_data_1k.json");
  const std::string yaml = "base_model: " + tokdir + "\nsequence_len: 512\nsample_packing: true\n" +
                           "datasets:\n  - path: " + data + "\n    type: alpaca\n" +
                           "micro_batch_size: 1\ngradient_accumulation_steps: 1\nlearning_rate: 0.0001\n";
  axl::config::LoadOptions lo;
  lo.resolve_models = false;
  auto cfg = axl::config::load_config_text(yaml, "alpaca-pack.yml", lo).config;
  auto tok = axl::tokenizer::load_tokenizer(tokdir);
  auto prepared = axl::data::prepare_datasets(cfg, *tok);
  ASSERT_GT(prepared.train.size(), 900u);
  for (int64_t mbs : {1, 2}) {
    PackingPlan plan = axl::data::plan_packing(prepared.train, static_cast<size_t>(mbs * 512));
    size_t samples = 0;
    for (const auto& bin : plan.bins) samples += bin.size();
    EXPECT_EQ(samples + plan.skipped_samples, prepared.train.size());
    std::printf("alpaca 1k, llama3 tokenizer, rows of %lld x 512: %zu samples, %llu tokens -> %zu rows, efficiency %.4f\n",
                static_cast<long long>(mbs), samples, static_cast<unsigned long long>(plan.packed_tokens),
                plan.bins.size(), plan.efficiency());
    EXPECT_GE(plan.efficiency(), 0.95);
  }
}

// --- packed vs unpacked on a real decoder, in float64 -------------------------------------

struct Family {
  const char* dir;
  int64_t sliding_window;  // > 0: make every layer sliding with this window
};

class PackedEqualsUnpacked : public ::testing::TestWithParam<Family> {};

struct LossAndGrads {
  double loss = 0;  // token mean
  std::map<std::string, at::Tensor> grads;
};

LossAndGrads run_loss(const axl::models::CausalLM& model, axl::peft::Adapter& adapter,
                      const std::vector<MicroBatch>& mbs, axl::kernels::AttentionImpl impl, bool checkpointing) {
  std::vector<at::Tensor> labels;
  for (const auto& mb : mbs) labels.push_back(mb.labels);
  const double tokens = static_cast<double>(axl::train::plan_accumulation(labels).total_tokens);
  for (auto& [name, t] : adapter.trainable()) t.mutable_grad() = at::Tensor();
  double loss = 0;
  for (const auto& mb : mbs) {
    axl::models::ForwardInput in;
    in.input_ids = mb.input_ids;
    in.position_ids = mb.position_ids;
    in.cu_seqlens = mb.cu_seqlens;
    in.attention = impl;
    if (checkpointing) in.layer_runner = axl::train::checkpoint_every_layer(model);
    at::Tensor l = axl::train::summed_causal_lm_loss_from_hidden(model, model.hidden(in), mb.labels) / tokens;
    l.backward();
    loss += l.item<double>();
  }
  LossAndGrads r;
  r.loss = loss;
  for (auto& [name, t] : adapter.trainable()) r.grads[name] = t.grad().clone();
  return r;
}

TEST_P(PackedEqualsUnpacked, LossAndEveryLoraGradient) {
  const Family fam = GetParam();
  AXL_REQUIRE_FIXTURE(dir, std::string("hf-tiny/") + fam.dir);
  axl::models::LoadOptions lo;
  lo.dtype = at::kDouble;
  auto model = axl::models::load_causal_lm(dir, lo);
  if (fam.sliding_window > 0) {
    model.config.sliding_window = fam.sliding_window;
    for (auto& layer : model.layers) layer.sliding = true;
  }
  axl::peft::LoraConfig lc;
  lc.r = 4;
  lc.lora_alpha = 8;
  lc.target_modules = axl::peft::TargetModules{};
  lc.target_modules->kind = axl::peft::TargetModules::Kind::AllLinear;
  auto adapter = axl::peft::attach_lora(model, lc, 3);
  {
    // PEFT starts B at zero, which would leave every A gradient zero: give B values.
    at::NoGradGuard ng;
    auto g = axl::compat::make_cpu_generator(9);
    for (auto& [name, t] : adapter.trainable())
      if (name.find("lora_B") != std::string::npos) t.copy_(at::randn(t.sizes(), g, t.options()) * 0.1);
  }

  // Five samples of varied length with prompt tokens masked; a row holding all of them.
  const int64_t vocab = model.config.vocab_size;
  axl::data::TokenizedStore store;
  std::mt19937 rng(5);
  for (int len : {9, 4, 13, 3, 7}) {
    std::vector<int32_t> ids, labels;
    for (int j = 0; j < len; ++j) {
      ids.push_back(static_cast<int32_t>(std::uniform_int_distribution<int64_t>(0, vocab - 1)(rng)));
      labels.push_back(j < 2 ? -100 : ids.back());
    }
    store.append(ids, labels);
  }
  BatcherOptions unpacked;
  unpacked.shuffle = false;
  Batcher one_by_one(store, unpacked);
  std::vector<MicroBatch> singles;
  for (size_t i = 0; i < store.size(); ++i) singles.push_back(one_by_one.make_batch({i}));
  BatcherOptions po = unpacked;
  po.sample_packing = true;
  po.sequence_len = 40;  // 36 tokens and 4 of padding: the padding segment is exercised too
  Batcher packer(store, po);
  ASSERT_EQ(packer.micro_batches_per_epoch(), 1u);
  std::vector<MicroBatch> packed{packer.micro_batch(0, 0)};
  ASSERT_EQ(packed[0].cu_seqlens.numel(), 7);

  // Unpacked references with the same attention (eager takes its softmax in float32).
  const LossAndGrads ref_sdpa = run_loss(model, adapter, singles, axl::kernels::AttentionImpl::Auto, false);
  const LossAndGrads ref_eager = run_loss(model, adapter, singles, axl::kernels::AttentionImpl::Eager, false);
  ASSERT_GT(ref_sdpa.grads.size(), 0u);
  struct Variant {
    const char* name;
    axl::kernels::AttentionImpl impl;
    bool checkpointing;
  };
  for (const Variant& v : {Variant{"per-segment sdpa", axl::kernels::AttentionImpl::Auto, false},
                           Variant{"block-diagonal eager", axl::kernels::AttentionImpl::Eager, false},
                           Variant{"per-segment + checkpointing", axl::kernels::AttentionImpl::Auto, true}}) {
    const LossAndGrads got = run_loss(model, adapter, packed, v.impl, v.checkpointing);
    const LossAndGrads& ref = v.impl == axl::kernels::AttentionImpl::Eager ? ref_eager : ref_sdpa;
    double grad_err = 0, grad_scale = 0;
    for (const auto& [name, g] : ref.grads) {
      ASSERT_TRUE(got.grads.count(name)) << name;
      grad_err = std::max(grad_err, (got.grads.at(name) - g).abs().max().item<double>());
      grad_scale = std::max(grad_scale, g.abs().max().item<double>());
    }
    const double loss_err = std::abs(got.loss - ref.loss);
    std::printf("%s %s: loss %.6f, |packed - unpacked| loss %.3g, LoRA grads max abs %.3g (max grad %.3g, %zu tensors)\n",
                fam.dir, v.name, ref.loss, loss_err, grad_err, grad_scale, ref.grads.size());
    EXPECT_LE(loss_err, 1e-5) << v.name;
    EXPECT_LE(grad_err, 1e-5) << v.name;
    EXPECT_GT(grad_scale, 1e-4);  // the gradients compared are not all zero
  }
}

INSTANTIATE_TEST_SUITE_P(HfTiny, PackedEqualsUnpacked,
                         ::testing::Values(Family{"LlamaForCausalLM", 0}, Family{"LlamaForCausalLM", 4},
                                           Family{"Qwen2ForCausalLM", 0}, Family{"GemmaForCausalLM", 0},
                                           Family{"Phi3ForCausalLM", 0}, Family{"GPT2LMHeadModel", 0}),
                         [](const auto& info) {
                           std::string name = info.param.dir;
                           name = name.substr(0, std::min(name.find("For"), name.find("LMHead")));
                           return name + (info.param.sliding_window ? "Sliding" : "");
                         });

TEST(SamplePacking, PerSegmentAttentionMatchesTheBlockDiagonalMask) {
  // Soft-capping (Gemma 2), a sliding window and grouped-query heads, in float64, gradients too.
  auto g = axl::compat::make_cpu_generator(4);
  at::Tensor q = at::randn({1, 4, 20, 8}, g, at::kDouble).requires_grad_(true);
  at::Tensor k = at::randn({1, 2, 20, 8}, g, at::kDouble).requires_grad_(true);
  at::Tensor v = at::randn({1, 2, 20, 8}, g, at::kDouble).requires_grad_(true);
  at::Tensor w = at::randn({1, 4, 20, 8}, g, at::kDouble);
  for (double softcap : {0.0, 5.0})
    for (int64_t window : {int64_t{0}, int64_t{3}}) {
      axl::kernels::AttentionSpec spec;
      spec.cu_seqlens = at::tensor(std::vector<int32_t>{0, 7, 8, 15, 20}, at::kInt);
      spec.softcap = softcap;
      spec.sliding_window = window;
      auto run = [&](axl::kernels::AttentionImpl impl) {
        spec.impl = impl;
        for (at::Tensor* t : {&q, &k, &v}) t->mutable_grad() = at::Tensor();
        at::Tensor out = axl::kernels::attention(q, k, v, spec);
        (out * w).sum().backward();
        return std::vector<at::Tensor>{out.detach(), q.grad().clone(), k.grad().clone(), v.grad().clone()};
      };
      auto seg = run(axl::kernels::AttentionImpl::Auto), eager = run(axl::kernels::AttentionImpl::Eager);
      // Eager takes its softmax in float32 (as transformers does), hence 1e-6.
      for (size_t i = 0; i < seg.size(); ++i)
        EXPECT_LE((seg[i] - eager[i]).abs().max().item<double>(), 1e-6) << "softcap " << softcap << " window " << window;
      if (softcap != 0.0) continue;
      // In float64 throughout: the block-diagonal mask through SDPA gives the same to 1e-12.
      for (at::Tensor* t : {&q, &k, &v}) t->mutable_grad() = at::Tensor();
      at::Tensor mask = axl::kernels::build_attention_mask(spec, 1, 20, 20, at::kDouble, q.device());
      at::Tensor out = at::scaled_dot_product_attention(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), mask);
      (out * w).sum().backward();
      const std::vector<at::Tensor> masked{out.detach(), q.grad(), k.grad(), v.grad()};
      for (size_t i = 0; i < seg.size(); ++i)
        EXPECT_LE((seg[i] - masked[i]).abs().max().item<double>(), 1e-12) << "window " << window << " tensor " << i;
    }
  axl::kernels::AttentionSpec bad;
  bad.cu_seqlens = at::tensor(std::vector<int32_t>{0, 9, 7, 20}, at::kInt);
  EXPECT_THROW(axl::kernels::attention(q, k, v, bad), axl::Error);  // not rising
  bad.cu_seqlens = at::tensor(std::vector<int32_t>{0, 7, 19}, at::kInt);
  EXPECT_THROW(axl::kernels::attention(q, k, v, bad), axl::Error);  // does not end at T
  bad.cu_seqlens = at::tensor(std::vector<int32_t>{0, 7, 20}, at::kInt);
  EXPECT_THROW(axl::kernels::attention(q.expand({2, 4, 20, 8}), k.expand({2, 2, 20, 8}), v.expand({2, 2, 20, 8}), bad),
               axl::Error);  // packed rows come one per batch
}

TEST(SamplePacking, AttentionNeverCrossesASampleBoundary) {
  AXL_REQUIRE_FIXTURE(dir, "hf-tiny/LlamaForCausalLM");
  axl::models::LoadOptions lo;
  lo.dtype = at::kDouble;
  auto model = axl::models::load_causal_lm(dir, lo);
  at::NoGradGuard ng;
  auto g = axl::compat::make_cpu_generator(2);
  at::Tensor ids = at::randint(0, model.config.vocab_size, {1, 24}, g, at::kLong);
  at::Tensor positions = at::cat({at::arange(8, at::kLong), at::arange(10, at::kLong), at::arange(6, at::kLong)}).unsqueeze(0);
  at::Tensor cu = at::tensor(std::vector<int32_t>{0, 8, 18, 24}, at::kInt);
  at::Tensor other = ids.clone();
  other.narrow(1, 8, 10).random_(0, model.config.vocab_size, g);  // the middle sample changes
  for (auto impl : {axl::kernels::AttentionImpl::Auto, axl::kernels::AttentionImpl::Eager}) {
    auto logits = [&](const at::Tensor& x) {
      axl::models::ForwardInput in;
      in.input_ids = x;
      in.position_ids = positions;
      in.cu_seqlens = cu;
      in.attention = impl;
      return model.forward(in).logits;
    };
    at::Tensor a = logits(ids), b = logits(other);
    EXPECT_EQ((a.narrow(1, 0, 8) - b.narrow(1, 0, 8)).abs().max().item<double>(), 0.0);
    EXPECT_EQ((a.narrow(1, 18, 6) - b.narrow(1, 18, 6)).abs().max().item<double>(), 0.0);
    EXPECT_GT((a.narrow(1, 8, 10) - b.narrow(1, 8, 10)).abs().max().item<double>(), 1e-6);
    // The third sample's logits are those of the sample run alone.
    axl::models::ForwardInput alone;
    alone.input_ids = ids.narrow(1, 18, 6);
    alone.attention = impl;
    // (Eager takes its softmax in float32, as transformers does: rounding differs at 1e-7.)
    const double tol = impl == axl::kernels::AttentionImpl::Eager ? 1e-6 : 1e-12;
    EXPECT_LE((model.forward(alone).logits - a.narrow(1, 18, 6)).abs().max().item<double>(), tol)
        << (impl == axl::kernels::AttentionImpl::Eager ? "eager" : "auto");
  }
}

TEST(SamplePacking, StepsPerEpochAreKnownBeforeTrainingAndTheLossFalls) {
  const axl::test::StoriesModel* s = axl::test::stories_model("train-packing");
  if (!s) GTEST_SKIP() << "needs $AXOLOTL_FIXTURES/llama2c-stories260K";
  // 32 training samples of about 40 tokens; rows of 4 x 128 = 512 tokens.
  auto cfg = axl::test::stories_config(*s, s->dir + "/packed-out",
                                       "adapter: lora\nlora_r: 8\nlora_alpha: 16\nlora_target_linear: true\n"
                                       "sample_packing: true\nnum_epochs: 10\n"
                                       "eval_steps: 100\nsave_strategy: 'no'\n");
  axl::train::TrainerOptions opts;
  opts.log_to_stderr = false;
  auto run = axl::train::prepare_run(cfg, opts);
  BatcherOptions bo;
  bo.micro_batch_size = cfg.micro_batch_size;
  bo.sample_packing = true;
  bo.sequence_len = cfg.sequence_len;
  Batcher batcher(run->data.train, bo);
  const int64_t rows = static_cast<int64_t>(batcher.micro_batches_per_epoch());
  const int64_t samples_per_row = static_cast<int64_t>(run->data.train.size()) / rows;
  EXPECT_GE(samples_per_row, 4);  // packing really packs
  EXPECT_GE(batcher.packing_plan().efficiency(), 0.75);
  const int64_t steps_per_epoch = (rows + cfg.gradient_accumulation_steps - 1) / cfg.gradient_accumulation_steps;
  auto summary = axl::train::train(*run, opts);
  EXPECT_EQ(summary.total_steps, 10 * steps_per_epoch);
  EXPECT_EQ(summary.steps, 10 * steps_per_epoch);
  EXPECT_LT(summary.last_loss, 0.7 * summary.first_loss) << summary.first_loss << " -> " << summary.last_loss;
  ASSERT_TRUE(summary.eval_loss_before && summary.eval_loss_after);  // packed evaluation
  EXPECT_LT(*summary.eval_loss_after, *summary.eval_loss_before);
  std::printf("packed stories260K LoRA: %lld rows per epoch (%zu samples), %lld steps, loss %.3f -> %.3f, eval %.3f -> %.3f\n",
              static_cast<long long>(rows), run->data.train.size(), static_cast<long long>(summary.steps),
              summary.first_loss, summary.last_loss, *summary.eval_loss_before, *summary.eval_loss_after);
}

}  // namespace
