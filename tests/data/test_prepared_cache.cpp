// The prepared-dataset cache: the store file format (round trip through mmap, damage found),
// the cache key (changes with every input that changes the result, not with others), reuse,
// rebuild of a damaged cache, concurrent preparers (threads and processes), and multi-dataset
// order by seed.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "../fixtures.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/data/content_hash.h"
#include "axl/data/prepared_cache.h"
#include "axl/data/tokenized_store_file.h"

namespace fs = std::filesystem;

namespace {

using axl::data::CacheOptions;
using axl::data::CacheOutcome;
using axl::data::PreparedData;
using axl::data::TokenizedStore;

void expect_same_store(const TokenizedStore& a, const TokenizedStore& b) {
  ASSERT_EQ(a.sequence_names(), b.sequence_names());
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.sequence_names().size(); ++s) {
    EXPECT_TRUE(a.tokens(s) == b.tokens(s).to_vector()) << "sequence " << s;
    EXPECT_TRUE(a.offsets(s) == b.offsets(s).to_vector()) << "sequence " << s;
  }
}

void expect_same_data(const PreparedData& a, const PreparedData& b) {
  expect_same_store(a.train, b.train);
  expect_same_store(a.validation, b.validation);
  ASSERT_EQ(a.stats.size(), b.stats.size());
  for (size_t i = 0; i < a.stats.size(); ++i) {
    EXPECT_EQ(a.stats[i].path, b.stats[i].path);
    EXPECT_EQ(a.stats[i].rows, b.stats[i].rows);
    EXPECT_EQ(a.stats[i].kept, b.stats[i].kept);
    EXPECT_EQ(a.stats[i].tokens, b.stats[i].tokens);
    EXPECT_EQ(a.stats[i].trainable_tokens, b.stats[i].trainable_tokens);
    EXPECT_EQ(a.stats[i].dropped_long, b.stats[i].dropped_long);
  }
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> cache_folders(const std::string& root) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::directory_iterator(root)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TokenizedStoreFile, RoundTripThroughMmap) {
  const std::string dir = axl::test::scratch_dir("store-file");
  TokenizedStore pref({"prompt", "chosen", "rejected"});
  std::vector<int32_t> a{1, 2, 3}, b{}, c{-100, 7};
  pref.append({&a, &b, &c});
  pref.append({&c, &a, &b});
  axl::data::write_tokenized_store(dir + "/p.bin", pref);
  TokenizedStore back = axl::data::read_tokenized_store(dir + "/p.bin");
  EXPECT_TRUE(back.is_mapped());
  expect_same_store(pref, back);
  EXPECT_EQ(back.sequence(1, 0).to_vector(), c);
  EXPECT_TRUE(back.sequence(0, 1).empty());
  // Arrays sit 8-byte aligned in the mapping.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(back.offsets(2).data()) % 8, 0u);
  // Appending copies out of the mapping first; the file is untouched.
  back.append({&a, &a, &a});
  EXPECT_FALSE(back.is_mapped());
  EXPECT_EQ(back.size(), 3u);
  EXPECT_EQ(axl::data::read_tokenized_store(dir + "/p.bin").size(), 2u);

  TokenizedStore empty;
  axl::data::write_tokenized_store(dir + "/e.bin", empty);
  EXPECT_EQ(axl::data::read_tokenized_store(dir + "/e.bin").size(), 0u);
}

TEST(TokenizedStoreFile, DamageIsDetected) {
  const std::string dir = axl::test::scratch_dir("store-damage");
  TokenizedStore store;
  for (int i = 0; i < 50; ++i) store.append(std::vector<int32_t>(10, i), std::vector<int32_t>(10, -100));
  const std::string path = dir + "/s.bin";
  axl::data::write_tokenized_store(path, store);
  const std::string good = read_all(path);
  auto expect_error = [&](const std::string& bytes, const std::string& what) {
    write_all(path, bytes);
    try {
      axl::data::read_tokenized_store(path);
      ADD_FAILURE() << "no error for " << what;
    } catch (const axl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(good.substr(0, good.size() / 2), "truncated");
  expect_error(good.substr(0, 10), "shorter than its header");
  std::string flipped = good;
  flipped[good.size() - 9] ^= 1;  // a token
  expect_error(flipped, "checksum mismatch");
  std::string magic = good;
  magic[0] = 'X';
  expect_error(magic, "wrong magic");
  std::string version = good;
  version[8] = 99;
  expect_error(version, "format version 99");
  write_all(path, good);
  expect_same_store(store, axl::data::read_tokenized_store(path));
}

// A small two-dataset config over files in a scratch folder, with its own tokenizer copy.
struct CacheSetup {
  std::string dir, tokdir, root;
  axl::config::Config cfg;
  std::unique_ptr<axl::tokenizer::Tokenizer> tok;

  explicit CacheSetup(const std::string& name, const std::string& fixture_tokdir, const std::string& extra_yaml = "") {
    dir = axl::test::scratch_dir(name);
    tokdir = dir + "/tok";
    fs::copy(fixture_tokdir, tokdir, fs::copy_options::recursive);
    root = dir + "/prepared";
    std::ofstream(dir + "/a.jsonl") << "{\"instruction\": \"Add 2 and 2.\", \"output\": \"4\"}\n"
                                    << "{\"instruction\": \"Name a colour.\", \"input\": \"warm\", \"output\": \"Red\"}\n"
                                    << "{\"instruction\": \"Say yes.\", \"output\": \"Yes\"}\n"
                                    << "{\"instruction\": \"Count to 3.\", \"output\": \"1 2 3\"}\n"
                                    << "{\"instruction\": \"Spell cat.\", \"output\": \"c a t\"}\n";
    std::ofstream(dir + "/b.jsonl") << "{\"text\": \"The quick brown fox.\"}\n"
                                    << "{\"text\": \"Jumps over the lazy dog.\"}\n"
                                    << "{\"text\": \"Hello there, world.\"}\n"
                                    << "{\"text\": \"One more line of text.\"}\n";
    reload(extra_yaml);
  }
  void reload(const std::string& extra_yaml = "") {
    const std::string yaml = "base_model: " + tokdir + "\nsequence_len: 64\nseed: 3\ndataset_prepared_path: " + root +
                             "\ndatasets:\n  - path: " + dir + "/a.jsonl\n    type: alpaca\n  - path: " + dir +
                             "/b.jsonl\n    type: completion\n" +
                             "micro_batch_size: 1\ngradient_accumulation_steps: 1\nlearning_rate: 0.0001\n" + extra_yaml;
    axl::config::LoadOptions opts;
    opts.resolve_models = false;
    cfg = axl::config::load_config_text(yaml, "t.yml", opts).config;
    tok = axl::tokenizer::load_tokenizer(tokdir);
  }
  std::string key() const {
    return axl::data::prepared_cache_key(axl::data::prepared_cache_inputs(cfg, {}));
  }
};

TEST(PreparedCache, KeyFollowsEveryInputAndOnlyThose) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-key", tokdir);
  const std::string base = s.key();
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base, s.key()) << "the key must be deterministic";

  using Mutation = std::function<void(axl::config::Config&)>;
  const std::vector<std::pair<std::string, Mutation>> relevant = {
      {"sequence_len", [](auto& c) { c.sequence_len = 128; }},
      {"min_sample_len", [](auto& c) { c.min_sample_len = 3; }},
      {"excess_length_strategy", [](auto& c) { c.excess_length_strategy = "truncate"; }},
      {"train_on_inputs", [](auto& c) { c.train_on_inputs = true; }},
      {"val_set_size", [](auto& c) { c.val_set_size = 0.2; }},
      {"seed", [](auto& c) { c.seed = 4; }},
      {"shuffle_merged_datasets", [](auto& c) { c.shuffle_merged_datasets = false; }},
      {"chat_template", [](auto& c) { c.chat_template = "chatml"; }},
      {"chat_template_jinja", [](auto& c) { c.chat_template_jinja = "{{ messages }}"; }},
      {"chat_template_kwargs", [](auto& c) { c.chat_template_kwargs["enable_thinking"] = "false"; }},
      {"default_system_message", [](auto& c) { c.default_system_message = "Be brief."; }},
      {"eot_tokens", [](auto& c) { c.eot_tokens = {"<|im_end|>"}; }},
      {"special_tokens", [](auto& c) { c.special_tokens.pad_token = "<|endoftext|>"; }},
      {"tokens", [](auto& c) { c.tokens = {"<new>"}; }},
      {"datasets[0].type", [](auto& c) { c.datasets[0].type = "alpaca:chatml"; }},
      {"datasets[0].split", [](auto& c) { c.datasets[0].split = "train[:3]"; }},
      {"datasets[0].ds_type", [](auto& c) { c.datasets[0].ds_type = "json"; }},
      {"datasets[0].field", [](auto& c) { c.datasets[0].field = "x"; }},
      {"datasets[0].roles_to_train", [](auto& c) { c.datasets[0].roles_to_train = std::vector<std::string>{"user"}; }},
      {"datasets[0].train_on_eos", [](auto& c) { c.datasets[0].train_on_eos = "all"; }},
      {"datasets[0].message_property_mappings", [](auto& c) { c.datasets[0].message_property_mappings["role"] = "from"; }},
      {"datasets[1].text_column", [](auto& c) { c.datasets[1].text_column = "body"; }},
      {"datasets[1].train_on_inputs", [](auto& c) { c.datasets[1].train_on_inputs = true; }},
      {"datasets order", [](auto& c) { std::swap(c.datasets[0], c.datasets[1]); }},
      {"one dataset fewer", [](auto& c) { c.datasets.pop_back(); }},
      {"test_datasets", [](auto& c) { c.test_datasets.push_back(c.datasets[1]); }},
  };
  std::set<std::string> keys{base};
  for (const auto& [what, mutate] : relevant) {
    axl::config::Config saved = s.cfg;
    mutate(s.cfg);
    const std::string k = s.key();
    EXPECT_NE(k, base) << what << " must change the key";
    EXPECT_TRUE(keys.insert(k).second) << what << " gave a key another input gave";
    s.cfg = saved;
  }
  const std::vector<std::pair<std::string, Mutation>> irrelevant = {
      {"learning_rate", [](auto& c) { c.learning_rate = 0.5; }},
      {"output_dir", [](auto& c) { c.output_dir = "/elsewhere"; }},
      {"micro_batch_size", [](auto& c) { c.micro_batch_size = 4; }},
      {"num_epochs", [](auto& c) { c.num_epochs = 9; }},
      {"dataset_prepared_path", [](auto& c) { c.dataset_prepared_path = "/other"; }},
      {"datasets[0].where", [](auto& c) { c.datasets[0].where = "other.yml:1:1"; }},
  };
  for (const auto& [what, mutate] : irrelevant) {
    axl::config::Config saved = s.cfg;
    mutate(s.cfg);
    EXPECT_EQ(s.key(), base) << what << " must not change the key";
    s.cfg = saved;
  }
  // The format version.
  EXPECT_NE(axl::data::prepared_cache_key(axl::data::prepared_cache_inputs(s.cfg, {}, 2)), base);
  // The preprocess-report order (no shuffle) is another result.
  EXPECT_NE(axl::data::prepared_cache_key(axl::data::prepared_cache_inputs(s.cfg, {0, false})), base);

  // A data file's contents (same size, one letter changed), then put back.
  const std::string a = read_all(s.dir + "/a.jsonl");
  std::string a2 = a;
  a2[a2.find("Red")] = 'B';
  write_all(s.dir + "/a.jsonl", a2);
  EXPECT_NE(s.key(), base) << "data file contents";
  write_all(s.dir + "/a.jsonl", a);
  EXPECT_EQ(s.key(), base);
  // A tokenizer file (a space more in tokenizer_config.json), then put back.
  const std::string tc = read_all(s.tokdir + "/tokenizer_config.json");
  write_all(s.tokdir + "/tokenizer_config.json", tc + " ");
  EXPECT_NE(s.key(), base) << "tokenizer file";
  write_all(s.tokdir + "/tokenizer_config.json", tc);
  // A file that is not the tokenizer's (weights, model config) does not matter.
  write_all(s.tokdir + "/model.safetensors", "weights");
  write_all(s.tokdir + "/config.json", "{}");
  EXPECT_EQ(s.key(), base);
  // A chat_template_jinja file's contents, for a chat_template dataset.
  write_all(s.dir + "/t.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
  s.cfg.datasets[0].type = "chat_template";
  s.cfg.chat_template = "jinja";
  s.cfg.chat_template_jinja = s.dir + "/t.jinja";
  const std::string with_file = s.key();
  write_all(s.dir + "/t.jinja", "{% for m in messages %}{{ m.content }}!{% endfor %}");
  EXPECT_NE(s.key(), with_file) << "chat template file contents";
}

TEST(PreparedCache, ReuseGivesIdenticalStores) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-reuse", tokdir, "val_set_size: 2\n");
  std::vector<std::string> lines;
  CacheOptions co;
  co.log = [&](const std::string& l) { lines.push_back(l); };
  CacheOutcome o1, o2;
  PreparedData built = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &o1);
  EXPECT_EQ(o1.status, CacheOutcome::Status::Built);
  EXPECT_EQ(o1.dir, s.root + "/" + s.key());
  EXPECT_FALSE(built.train.is_mapped());
  EXPECT_EQ(built.train.size(), 7u);
  EXPECT_EQ(built.validation.size(), 2u);
  PreparedData hit = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &o2);
  EXPECT_EQ(o2.status, CacheOutcome::Status::Hit);
  EXPECT_TRUE(hit.train.is_mapped());
  EXPECT_TRUE(hit.validation.is_mapped());
  expect_same_data(built, hit);
  expect_same_data(axl::data::prepare_datasets(s.cfg, *s.tok), hit);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "dataset cache: wrote " + o1.dir);
  EXPECT_EQ(lines[1], "dataset cache: reusing " + o1.dir);
  // The manifest says what the key was made of.
  const auto manifest = nlohmann::json::parse(read_all(o1.dir + "/manifest.json"));
  EXPECT_EQ(manifest["key"], s.key());
  EXPECT_EQ(manifest["inputs"]["sequence_len"], 64);
  EXPECT_EQ(manifest["inputs"]["datasets"][0]["files"][0]["sha256"], axl::data::sha256_file_hex(s.dir + "/a.jsonl"));
  EXPECT_EQ(manifest["train_records"], 7);

  // A change rebuilds under another key; the old cache stays for its own config.
  s.cfg.sequence_len = 8;
  CacheOutcome o3;
  PreparedData shorter = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &o3);
  EXPECT_EQ(o3.status, CacheOutcome::Status::Built);
  EXPECT_NE(o3.key, o1.key);
  EXPECT_LT(shorter.train.size() + shorter.validation.size(), 9u);
  EXPECT_EQ(cache_folders(s.root).size(), 2u);
  // A changed data file is never served from the stale cache.
  s.cfg.sequence_len = 64;
  std::ofstream(s.dir + "/b.jsonl", std::ios::app) << "{\"text\": \"A fifth line.\"}\n";
  CacheOutcome o4;
  PreparedData more = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &o4);
  EXPECT_EQ(o4.status, CacheOutcome::Status::Built);
  EXPECT_EQ(more.train.size() + more.validation.size(), 10u);

  // write = false: reuses a matching cache, never writes one.
  CacheOptions ro;
  ro.write = false;
  CacheOutcome o5;
  axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, ro, &o5);
  EXPECT_EQ(o5.status, CacheOutcome::Status::Hit);
  s.cfg.seed = 99;
  axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, ro, &o5);
  EXPECT_EQ(o5.status, CacheOutcome::Status::Uncached);
  EXPECT_EQ(cache_folders(s.root).size(), 3u);
}

TEST(PreparedCache, HitLoadsNoTokenizer) {
  // The key is made without a tokenizer, so a hit (what `preprocess` and a second run see)
  // skips loading it; the key equals the one an eagerly given tokenizer gets.
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-lazy", tokdir, "val_set_size: 2\n");
  int loads = 0;
  auto lazy = [&]() -> const axl::tokenizer::Tokenizer& {
    ++loads;
    return *s.tok;
  };
  CacheOutcome o1, o2;
  const PreparedData built = axl::data::prepare_datasets_cached(s.cfg, lazy, {}, {}, &o1);
  EXPECT_EQ(o1.status, CacheOutcome::Status::Built);
  EXPECT_EQ(loads, 1);
  const PreparedData hit = axl::data::prepare_datasets_cached(s.cfg, lazy, {}, {}, &o2);
  EXPECT_EQ(o2.status, CacheOutcome::Status::Hit);
  EXPECT_EQ(loads, 1) << "a cache hit must not load the tokenizer";
  expect_same_data(built, hit);
  CacheOutcome o3;
  axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, {}, &o3);
  EXPECT_EQ(o3.status, CacheOutcome::Status::Hit);
  EXPECT_EQ(o3.key, o1.key);
}

TEST(PreparedCache, DamagedCacheIsRebuilt) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-damage", tokdir, "val_set_size: 2\n");
  std::vector<std::string> lines;
  CacheOptions co;
  co.log = [&](const std::string& l) { lines.push_back(l); };
  CacheOutcome o;
  const PreparedData reference = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &o);
  const std::string dir = o.dir;
  const std::string train_bin = read_all(dir + "/train.bin");
  const std::vector<std::pair<std::string, std::function<void()>>> damages = {
      {"truncated train.bin", [&] { write_all(dir + "/train.bin", train_bin.substr(0, train_bin.size() - 12)); }},
      {"flipped token", [&] {
         std::string b = train_bin;
         b[b.size() - 5] ^= 0x40;
         write_all(dir + "/train.bin", b);
       }},
      {"missing validation.bin", [&] { fs::remove(dir + "/validation.bin"); }},
      {"half-written manifest", [&] {
         const std::string m = read_all(dir + "/manifest.json");
         write_all(dir + "/manifest.json", m.substr(0, m.size() / 2));
       }},
      {"manifest of another key", [&] {
         auto m = nlohmann::json::parse(read_all(dir + "/manifest.json"));
         m["key"] = std::string(64, '0');
         write_all(dir + "/manifest.json", m.dump());
       }},
  };
  for (const auto& [what, damage] : damages) {
    damage();
    EXPECT_THROW(axl::data::load_prepared_cache(dir, o.key), axl::Error) << what;
    lines.clear();
    CacheOutcome r;
    PreparedData rebuilt = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &r);
    EXPECT_EQ(r.status, CacheOutcome::Status::Rebuilt) << what;
    ASSERT_EQ(lines.size(), 2u) << what;
    EXPECT_EQ(lines[0].rfind("warning: dataset cache is damaged, rebuilding it: ", 0), 0u) << lines[0];
    expect_same_data(reference, rebuilt);
    CacheOutcome h;
    expect_same_data(reference, axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, co, &h));
    EXPECT_EQ(h.status, CacheOutcome::Status::Hit) << what;
  }
  EXPECT_EQ(cache_folders(s.root), std::vector<std::string>{o.key}) << "no stale or temporary folders left";
}

TEST(PreparedCache, ConcurrentPreparersMakeOneValidCache) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-concurrent", tokdir, "val_set_size: 2\n");
  const PreparedData reference = axl::data::prepare_datasets(s.cfg, *s.tok);
  const std::string key = s.key();
  // Threads.
  {
    constexpr int kThreads = 4;
    std::vector<PreparedData> results(kThreads);
    std::vector<CacheOutcome> outcomes(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] { results[t] = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {1, true}, {}, &outcomes[t]); });
    for (auto& t : threads) t.join();
    for (int t = 0; t < kThreads; ++t) {
      expect_same_data(reference, results[t]);
      EXPECT_NE(outcomes[t].status, CacheOutcome::Status::Uncached);
    }
    EXPECT_EQ(cache_folders(s.root), std::vector<std::string>{key});
    expect_same_data(reference, axl::data::load_prepared_cache(s.root + "/" + key, key));
  }
  // Processes (forked before any thread exists in them), racing on a fresh folder.
  fs::remove_all(s.root);
  constexpr int kProcs = 4;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 1;
      try {
        PreparedData d = axl::data::prepare_datasets_cached(s.cfg, *s.tok, {1, true});
        code = d.train.size() == reference.train.size() && d.train.tokens(0) == reference.train.tokens(0).to_vector() ? 0 : 3;
      } catch (...) {
        code = 2;
      }
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a preparer process failed: " << status;
  }
  EXPECT_EQ(cache_folders(s.root), std::vector<std::string>{key});
  expect_same_data(reference, axl::data::load_prepared_cache(s.root + "/" + key, key));
}

TEST(PreparedCache, ManyDatasetsOrderIsDeterministicBySeed) {
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/qwen3");
  CacheSetup s("cache-order", tokdir);
  // Per-dataset options: the first dataset reads only 3 of its rows.
  s.cfg.datasets[0].split = "train[:3]";
  auto records = [](const TokenizedStore& st) {
    std::vector<std::vector<int32_t>> out;
    for (size_t i = 0; i < st.size(); ++i) out.push_back(st.input_ids(i).to_vector());
    return out;
  };
  // Unshuffled: the datasets' records in config order, each in row order.
  s.cfg.shuffle_merged_datasets = false;
  const auto merged = records(axl::data::prepare_datasets(s.cfg, *s.tok).train);
  ASSERT_EQ(merged.size(), 7u);
  axl::config::Config only_b = s.cfg;
  only_b.datasets.erase(only_b.datasets.begin());
  const auto b = records(axl::data::prepare_datasets(only_b, *s.tok).train);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(std::vector<std::vector<int32_t>>(merged.begin() + 3, merged.end()), b);
  // Shuffled: a permutation of the same records, the same for a seed, another for another seed.
  s.cfg.shuffle_merged_datasets = true;
  const auto shuffled = records(axl::data::prepare_datasets(s.cfg, *s.tok).train);
  EXPECT_EQ(records(axl::data::prepare_datasets(s.cfg, *s.tok, {3, true}).train), shuffled);
  EXPECT_NE(shuffled, merged);
  auto sorted = [](auto v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(shuffled), sorted(merged));
  s.cfg.seed = 11;
  const auto other = records(axl::data::prepare_datasets(s.cfg, *s.tok).train);
  EXPECT_NE(other, shuffled);
  EXPECT_EQ(sorted(other), sorted(merged));
  // Through the cache, the same order.
  s.cfg.seed = 3;
  axl::data::prepare_datasets_cached(s.cfg, *s.tok);
  CacheOutcome o;
  EXPECT_EQ(records(axl::data::prepare_datasets_cached(s.cfg, *s.tok, {}, {}, &o).train), shuffled);
  EXPECT_EQ(o.status, CacheOutcome::Status::Hit);
}

}  // namespace
