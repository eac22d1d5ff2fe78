// Streamed datasets (data/token_stream.h): rows equal an eager packing of the same
// documents, are the same for any thread count, resume exactly from a saved position, loop at
// the end, and name file:line for a bad document; the lazy line reader and the config keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../fixtures.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/data/dataset_files.h"
#include "axl/data/hf_tokenize.h"
#include "axl/data/line_reader.h"
#include "axl/data/prepare.h"
#include "axl/data/token_stream.h"

using testing::HasSubstr;

namespace {

using axl::data::PackedRow;
using axl::data::StreamPosition;
using axl::data::TokenId;

// Documents of 1..9 Shakespeare paragraphs as JSON Lines (some over sequence_len, so the
// pretrain strategy splits them into overlapping windows), written once per test.
std::string write_documents(const std::string& dir, size_t count) {
  std::ifstream in(axl::test::fixtures_dir() + "/text/tinyshakespeare.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> paragraphs;
  std::string text = ss.str();
  for (size_t at = 0; at < text.size() && paragraphs.size() < 4 * count;) {
    size_t end = text.find("\n\n", at);
    if (end == std::string::npos) end = text.size();
    paragraphs.push_back(text.substr(at, end - at));
    at = end + 2;
  }
  const std::string path = dir + "/docs.jsonl";
  std::ofstream out(path);
  for (size_t i = 0, p = 0; i < count; ++i) {
    std::string doc;
    for (size_t k = 0; k < 1 + i % 9 && p < paragraphs.size(); ++k) doc += (k ? "\n\n" : "") + paragraphs[p++ % paragraphs.size()];
    out << nlohmann::json{{"text", doc}, {"id", i}}.dump() << "\n";
    if (i % 50 == 7) out << "\n";  // blank lines are no documents
  }
  return path;
}

axl::config::Config stream_config(const std::string& tokdir, const std::string& data, const std::string& extra) {
  const std::string yaml = "base_model: " + tokdir + "\npretraining_dataset:\n  - path: " + data +
                           "\n    type: pretrain\nsequence_len: 64\nmicro_batch_size: 2\nmax_steps: 10\n"
                           "learning_rate: 0.001\n" +
                           (extra.find("sample_packing") == std::string::npos ? "sample_packing: true\n" : "") + extra;
  axl::config::LoadOptions opts;
  opts.resolve_models = false;
  return axl::config::load_config_text(yaml, "stream.yml", opts).config;
}

struct Fixture {
  std::string dir, tokdir, data;
  std::unique_ptr<axl::tokenizer::Tokenizer> tok;
};

const Fixture* fixture() {
  static Fixture f = [] {
    Fixture r;
    r.tokdir = axl::test::fixtures_dir() + "/tokenizers/lenml-llama2-mistral32k";
    if (axl::test::fixtures_dir().empty() || !std::filesystem::exists(r.tokdir)) return r;
    r.dir = axl::test::scratch_dir("data-token-stream");
    r.data = write_documents(r.dir, 300);
    r.tok = axl::tokenizer::load_tokenizer(r.tokdir);
    return r;
  }();
  return f.tok ? &f : nullptr;
}

#define REQUIRE_STREAM_FIXTURE(f)                                                      \
  const Fixture* f = fixture();                                                        \
  if (!f) {                                                                            \
    if (axl::test::fixtures_required()) FAIL() << "missing tokenizer/text fixtures";  \
    GTEST_SKIP() << "needs $AXOLOTL_FIXTURES tokenizers and text";                     \
  }

std::vector<PackedRow> read_rows(const axl::data::StreamSource& src, axl::data::TokenStreamOptions o, size_t max_rows,
                                 StreamPosition start = {}) {
  axl::data::TokenStream stream(src, o, start);
  std::vector<PackedRow> rows;
  PackedRow row;
  while (rows.size() < max_rows && stream.next(row)) rows.push_back(row);
  return rows;
}

void expect_same_rows(const std::vector<PackedRow>& a, const std::vector<PackedRow>& b, size_t b_from = 0) {
  ASSERT_GE(b.size(), b_from + a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const PackedRow& x = a[i];
    const PackedRow& y = b[b_from + i];
    EXPECT_EQ(x.input_ids, y.input_ids) << "row " << i;
    EXPECT_EQ(x.labels, y.labels) << "row " << i;
    EXPECT_EQ(x.position_ids, y.position_ids) << "row " << i;
    EXPECT_EQ(x.segments, y.segments) << "row " << i;
    EXPECT_TRUE(x.next == y.next) << "row " << i;
  }
}

TEST(LineReader, ChunksSmallerThanALineAndReopeningAtAnOffset) {
  const std::string dir = axl::test::scratch_dir("line-reader");
  std::ofstream(dir + "/t.txt") << "first line\n\nthird, a somewhat longer line\r\nlast without newline";
  axl::data::LineReader r(dir + "/t.txt", 0, 1, 4);  // 4-byte chunks: every line spans several
  std::vector<axl::data::LineRef> lines;
  std::vector<std::string> texts;
  axl::data::LineRef l;
  while (r.next(l)) {
    lines.push_back(l);
    texts.emplace_back(l.text);
  }
  EXPECT_THAT(texts, testing::ElementsAre("first line", "", "third, a somewhat longer line\r", "last without newline"));
  EXPECT_EQ(lines[2].offset, 12u);
  EXPECT_EQ(lines[3].number, 4u);
  axl::data::LineReader again(dir + "/t.txt", lines[2].offset, 3, 4);
  ASSERT_TRUE(again.next(l));
  EXPECT_EQ(std::string(l.text), texts[2]);
  EXPECT_EQ(l.number, 3u);
  EXPECT_THROW(axl::data::LineReader(dir + "/t.txt", 10000), axl::Error);
  EXPECT_THROW(axl::data::LineReader(dir + "/missing.txt"), axl::Error);
}

// Packing the same documents eagerly: all rows read and tokenized first (prepare.h), then
// whole samples concatenated in order until the next would overflow a row.
TEST(TokenStream, RowsEqualAnEagerPackingOfTheSameDocuments) {
  REQUIRE_STREAM_FIXTURE(f);
  const auto cfg = stream_config(f->tokdir, f->data, "");
  const auto src = axl::data::make_stream_source(cfg, *f->tok);
  ASSERT_EQ(src.layout.capacity, 128u);
  axl::data::TokenStreamOptions o;
  o.loop = false;
  o.item_bytes = 4096;
  const auto rows = read_rows(src, o, SIZE_MAX);

  const auto docs = axl::data::read_rows_from_file(f->data);
  ASSERT_EQ(docs.size(), 300u);
  const auto strategy = axl::data::make_prompt_strategy(cfg.pretraining_dataset[0], cfg, *f->tok);
  const auto samples = axl::data::tokenize_rows(docs, *strategy, 1);
  std::vector<std::vector<TokenId>> eager;
  std::vector<TokenId> current;
  size_t windows_split = 0, total = 0;
  for (const auto& s : samples) {
    ASSERT_EQ(s.input_ids, s.labels);  // pretraining trains on every token
    ASSERT_LE(s.input_ids.size(), 64u);
    if (s.input_ids.size() < 2) continue;
    if (current.size() + s.input_ids.size() > 128) {
      eager.push_back(current);
      current.clear();
    }
    current.insert(current.end(), s.input_ids.begin(), s.input_ids.end());
    total += s.input_ids.size();
  }
  eager.push_back(current);
  windows_split = samples.size() - docs.size();
  EXPECT_GT(windows_split, 100u);  // long documents became several overlapping windows
  ASSERT_EQ(rows.size(), eager.size());
  size_t packed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t used = eager[i].size();
    ASSERT_EQ(rows[i].input_ids.size(), 128u);
    EXPECT_EQ(std::vector<TokenId>(rows[i].input_ids.begin(), rows[i].input_ids.begin() + used), eager[i]) << i;
    EXPECT_EQ(std::vector<TokenId>(rows[i].labels.begin(), rows[i].labels.begin() + used), eager[i]) << i;
    for (size_t j = used; j < 128; ++j) {
      EXPECT_EQ(rows[i].labels[j], axl::data::kIgnoreIndex);
      EXPECT_EQ(rows[i].attention_mask[j], 0);
      EXPECT_EQ(rows[i].input_ids[j], *f->tok->special_tokens().eos_id);  // no PAD: EOS pads
    }
    // Positions restart at each sample (pretrain_multipack_attn), the padding is a segment.
    size_t at = 0;
    for (int32_t seg : rows[i].segments) {
      for (int32_t j = 0; j < seg; ++j) ASSERT_EQ(rows[i].position_ids[at + static_cast<size_t>(j)], j);
      at += static_cast<size_t>(seg);
    }
    EXPECT_EQ(at, 128u);
    packed += used;
    EXPECT_EQ(rows[i].next.rows, i + 1);
  }
  EXPECT_EQ(packed, total);
  EXPECT_EQ(rows.back().next.pass, 1u);  // the last row closes the pass
  EXPECT_EQ(rows.back().next.offset, 0u);
}

TEST(TokenStream, SameRowsForOneAndManyThreads) {
  REQUIRE_STREAM_FIXTURE(f);
  const auto src = axl::data::make_stream_source(stream_config(f->tokdir, f->data, ""), *f->tok);
  axl::data::TokenStreamOptions one, many;
  one.threads = 1;
  many.threads = 4;
  one.loop = many.loop = false;
  one.item_bytes = many.item_bytes = 1500;  // many small items, finished out of order
  many.max_items_in_flight = 3;
  const auto a = read_rows(src, one, SIZE_MAX), b = read_rows(src, many, SIZE_MAX);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 100u);
  expect_same_rows(a, b);
}

// A stream restarted from any row's saved position continues with exactly the next row, also
// mid-document (positions with sample > 0) and across the end of a pass (the stream loops).
TEST(TokenStream, ResumeFromASavedPositionContinuesWithTheNextRow) {
  REQUIRE_STREAM_FIXTURE(f);
  const auto src = axl::data::make_stream_source(stream_config(f->tokdir, f->data, ""), *f->tok);
  axl::data::TokenStreamOptions o;
  o.item_bytes = 3000;
  const size_t per_pass = read_rows(src, [&] { auto p = o; p.loop = false; return p; }(), SIZE_MAX).size();
  const auto straight = read_rows(src, o, per_pass + 20);
  ASSERT_EQ(straight.size(), per_pass + 20);
  // The second pass starts over: its first row is the first pass's first row.
  EXPECT_EQ(straight[per_pass].input_ids, straight[0].input_ids);
  EXPECT_EQ(straight[per_pass].next.pass, 1u);
  size_t mid_document = 0;
  for (size_t k : {size_t{0}, size_t{1}, size_t{7}, size_t{33}, per_pass / 2, per_pass - 2, per_pass - 1, per_pass + 3}) {
    const StreamPosition at = straight[k].next;
    mid_document += at.sample > 0;
    const auto resumed = read_rows(src, o, 12, at);
    expect_same_rows(resumed, straight, k + 1);
  }
  EXPECT_GT(mid_document, 0u) << "no resume inside a document was tested";
  // Through the JSON a checkpoint keeps.
  const auto saved = StreamPosition::from_json(straight[40].next.to_json(), "state");
  expect_same_rows(read_rows(src, o, 3, saved), straight, 41);
}

TEST(TokenStream, ACorruptLineNamesFileAndLine) {
  REQUIRE_STREAM_FIXTURE(f);
  const std::string dir = axl::test::scratch_dir("stream-corrupt");
  {
    std::ofstream out(dir + "/bad.jsonl");
    for (int i = 0; i < 60; ++i) out << "{\"text\": \"line " << i << " of a story\"}\n";
    out << "{\"text\": \"broken\n";
    out << "{\"text\": \"after\"}\n";
  }
  const auto src = axl::data::make_stream_source(stream_config(f->tokdir, dir + "/bad.jsonl", ""), *f->tok);
  axl::data::TokenStreamOptions o;
  o.item_bytes = 200;
  axl::data::TokenStream stream(src, o);
  PackedRow row;
  size_t rows = 0;
  try {
    while (stream.next(row)) ++rows;
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir + "/bad.jsonl:61: "));
    EXPECT_THAT(e.what(), HasSubstr("malformed JSON line"));
  }
  EXPECT_GT(rows, 0u);  // the rows before the bad line came first

  std::ofstream(dir + "/array.json") << "[{\"text\": \"a\"}]\n";
  const auto array_src = axl::data::make_stream_source(stream_config(f->tokdir, dir + "/array.json", ""), *f->tok);
  axl::data::TokenStream array_stream(array_src, o);
  try {
    array_stream.next(row);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("JSON Lines"));
  }
}

// Unpacked pretraining as Axolotl's encode_streaming: a document per row, cut to
// sequence_len - 2; with pretraining_sample_concatenation, documents + [EOS, PAD] fill rows.
TEST(TokenStream, UnpackedPretrainingLayouts) {
  REQUIRE_STREAM_FIXTURE(f);
  const auto docs = axl::data::read_rows_from_file(f->data);
  const TokenId eos = *f->tok->special_tokens().eos_id;
  axl::data::TokenStreamOptions o;
  o.loop = false;
  const auto one = axl::data::make_stream_source(stream_config(f->tokdir, f->data, "sample_packing: false\n"), *f->tok);
  EXPECT_EQ(one.rows_per_micro_batch, 2u);
  const auto rows = read_rows(one, o, 20);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto want = axl::data::encode_truncated(*f->tok, docs[i].value["text"].get<std::string>(), 62);
    ASSERT_EQ(rows[i].input_ids.size(), 64u);
    EXPECT_EQ(std::vector<TokenId>(rows[i].input_ids.begin(), rows[i].input_ids.begin() + static_cast<long>(want.size())), want);
    EXPECT_EQ(rows[i].labels[want.size()], axl::data::kIgnoreIndex);
  }
  const auto cat = axl::data::make_stream_source(
      stream_config(f->tokdir, f->data, "sample_packing: false\npretraining_sample_concatenation: true\n"), *f->tok);
  const auto crow = read_rows(cat, o, 1).at(0);
  const auto first = axl::data::encode_truncated(*f->tok, docs[0].value["text"].get<std::string>(), 62);
  const size_t n = first.size();
  EXPECT_EQ(crow.input_ids[n], eos);
  EXPECT_EQ(crow.labels[n], eos);
  EXPECT_EQ(crow.labels[n + 1], axl::data::kIgnoreIndex);
  EXPECT_EQ(crow.attention_mask[n + 1], 0);  // the PAD between documents is not attended
  EXPECT_EQ(crow.attention_mask[n + 2], 1);  // the next document follows in the same row
  EXPECT_EQ(crow.position_ids[n + 2], static_cast<int32_t>(n + 2));
}

TEST(StreamConfig, KeysSkipAndErrors) {
  REQUIRE_STREAM_FIXTURE(f);
  axl::config::LoadOptions opts;
  opts.resolve_models = false;
  auto load = [&](const std::string& yaml) { return axl::config::load_config_text(yaml, "s.yml", opts).config; };
  const std::string head = "base_model: " + f->tokdir + "\nlearning_rate: 0.001\nsequence_len: 64\n";
  // A bare path is a pretrain entry; max_steps is required; val_set_size is refused.
  auto bare = load(head + "pretraining_dataset: " + f->data + "\nmax_steps: 5\n");
  ASSERT_EQ(bare.pretraining_dataset.size(), 1u);
  EXPECT_EQ(bare.pretraining_dataset[0].type, "pretrain");
  EXPECT_TRUE(axl::data::is_streaming(bare));
  try {
    load(head + "pretraining_dataset: " + f->data + "\n");
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs max_steps"));
  }
  EXPECT_THROW(load(head + "pretraining_dataset: " + f->data + "\nmax_steps: 5\nval_set_size: 0.1\n"), axl::Error);
  // A hub name is not streamed: one clear error naming it.
  auto hub = load(head + "pretraining_dataset:\n  - path: HuggingFaceFW/fineweb-edu\n    name: sample-10BT\nmax_steps: 5\n");
  try {
    axl::data::make_stream_source(hub, *f->tok);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("HuggingFaceFW/fineweb-edu"));
    EXPECT_THAT(e.what(), HasSubstr("not a local file or folder"));
  }
  // skip: the first documents are left out of every pass.
  auto cfg = stream_config(f->tokdir, f->data, "");
  const auto base = read_rows(axl::data::make_stream_source(cfg, *f->tok), {}, 1).at(0);
  cfg.pretraining_dataset[0].skip = 1;
  axl::data::TokenStreamOptions o;
  o.loop = false;
  const auto skipped_src = axl::data::make_stream_source(cfg, *f->tok);
  const auto skipped = read_rows(skipped_src, o, SIZE_MAX);
  EXPECT_NE(skipped.at(0).input_ids, base.input_ids);
  const auto docs = axl::data::read_rows_from_file(f->data);
  auto second = axl::data::make_prompt_strategy(cfg.pretraining_dataset[0], cfg, *f->tok);
  std::vector<axl::data::TokenizedSample> s;
  second->tokenize(docs[1].value, s);
  EXPECT_EQ(std::vector<TokenId>(skipped[0].input_ids.begin(), skipped[0].input_ids.begin() + static_cast<long>(s[0].input_ids.size())),
            s[0].input_ids);
  // A folder of text files streams line by line; a file that changed refuses a saved position.
  const std::string dir = axl::test::scratch_dir("stream-text");
  std::ofstream(dir + "/a.txt") << "One day a cat sat.\nThe cat ran.\n";
  std::ofstream(dir + "/b.txt") << "A dog barked.\n";
  cfg.pretraining_dataset[0].path = dir;
  cfg.pretraining_dataset[0].skip.reset();
  const auto text_src = axl::data::make_stream_source(cfg, *f->tok);
  ASSERT_EQ(text_src.files.size(), 2u);
  const auto text_rows = read_rows(text_src, o, SIZE_MAX);
  ASSERT_EQ(text_rows.size(), 1u);
  EXPECT_EQ(text_rows[0].segments.size(), 4u);  // three documents and the padding
  const auto id = text_src.identity();
  std::ofstream(dir + "/b.txt", std::ios::app) << "More.\n";
  EXPECT_THROW(id.check_same(text_src.identity(), "state"), axl::Error);
}

}  // namespace

// `streaming: true` on `datasets`: the entry's own strategy (prompt labels masked); packed
// rows restart positions per sample, unpacked rows hold one sample each.
TEST(StreamConfig, StreamingDatasetsUseTheirPromptStrategy) {
  REQUIRE_STREAM_FIXTURE(f);
  const std::string dir = axl::test::scratch_dir("stream-sft");
  {
    std::ofstream out(dir + "/alpaca.jsonl");
    for (int i = 0; i < 12; ++i)
      out << nlohmann::json{{"instruction", "Count to " + std::to_string(i)}, {"input", ""}, {"output", std::string(i % 4 + 1, 'x')}}.dump() << "\n";
  }
  axl::config::LoadOptions opts;
  opts.resolve_models = false;
  const std::string yaml = "base_model: " + f->tokdir + "\ndatasets:\n  - path: " + dir +
                           "/alpaca.jsonl\n    type: alpaca\nstreaming: true\nsequence_len: 64\nmicro_batch_size: 2\n"
                           "max_steps: 3\nlearning_rate: 0.001\n";
  const auto cfg = axl::config::load_config_text(yaml + "sample_packing: true\n", "s.yml", opts).config;
  const auto strategy = axl::data::make_prompt_strategy(cfg.datasets[0], cfg, *f->tok);
  std::vector<axl::data::TokenizedSample> first;
  strategy->tokenize(axl::data::read_rows_from_file(dir + "/alpaca.jsonl")[0].value, first);
  axl::data::TokenStreamOptions o;
  o.loop = false;
  const auto packed = read_rows(axl::data::make_stream_source(cfg, *f->tok), o, SIZE_MAX);
  ASSERT_FALSE(packed.empty());
  const size_t n = first[0].input_ids.size();
  EXPECT_EQ(std::vector<TokenId>(packed[0].labels.begin(), packed[0].labels.begin() + static_cast<long>(n)), first[0].labels);
  EXPECT_EQ(packed[0].labels[0], axl::data::kIgnoreIndex);  // the prompt is not trained
  EXPECT_EQ(packed[0].position_ids[n], 0);                   // the second sample starts again at 0
  EXPECT_GT(packed[0].segments.size(), 2u);
  const auto unpacked_cfg = axl::config::load_config_text(yaml, "s.yml", opts).config;
  const auto unpacked = read_rows(axl::data::make_stream_source(unpacked_cfg, *f->tok), o, SIZE_MAX);
  EXPECT_EQ(unpacked.size(), 12u);
  EXPECT_EQ(unpacked[0].segments.front(), static_cast<int32_t>(n));
}

namespace {

// Rows of Axolotl's own streaming functions (tests/peers/refs-stream.sh): encode_streaming
// with and without concatenation, and the pretrain windows the packed path packs.
TEST(TokenStream, RowsEqualAxolotlsStreamingEncoding) {
  const char* peers = std::getenv("AXL_PEER_FIXTURES");
  const std::string dir = peers ? std::string(peers) + "/stream" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/encode_concat.json")) {
    if (axl::test::fixtures_required()) FAIL() << "missing Axolotl streaming references in " << dir;
    GTEST_SKIP() << "Axolotl streaming references not generated (scripts/make-peer-refs.sh; set AXL_PEER_FIXTURES)";
  }
  REQUIRE_STREAM_FIXTURE(f);
  auto peer = [&](const std::string& name) { return nlohmann::json::parse(std::ifstream(dir + "/" + name)); };
  const std::string docs = dir + "/docs.jsonl";
  axl::data::TokenStreamOptions o;
  o.loop = false;
  o.item_bytes = 2000;

  const auto concat = peer("encode_concat.json");
  const auto cat_src = axl::data::make_stream_source(
      stream_config(f->tokdir, docs, "sample_packing: false\npretraining_sample_concatenation: true\n"), *f->tok);
  const auto cat_rows = read_rows(cat_src, o, SIZE_MAX);
  ASSERT_EQ(cat_rows.size(), concat["input_ids"].size());
  for (size_t i = 0; i < cat_rows.size(); ++i) {
    EXPECT_EQ(cat_rows[i].input_ids, concat["input_ids"][i].get<std::vector<TokenId>>()) << i;
    EXPECT_EQ(cat_rows[i].labels, concat["labels"][i].get<std::vector<TokenId>>()) << i;
    EXPECT_EQ(cat_rows[i].attention_mask, concat["attention_mask"][i].get<std::vector<int32_t>>()) << i;
  }

  const auto plain = peer("encode_plain.json");
  const auto plain_src = axl::data::make_stream_source(stream_config(f->tokdir, docs, "sample_packing: false\n"), *f->tok);
  const auto plain_rows = read_rows(plain_src, o, SIZE_MAX);
  ASSERT_EQ(plain_rows.size(), plain["input_ids"].size());
  for (size_t i = 0; i < plain_rows.size(); ++i) {
    const auto want = plain["input_ids"][i].get<std::vector<TokenId>>();
    EXPECT_EQ(std::vector<TokenId>(plain_rows[i].input_ids.begin(), plain_rows[i].input_ids.begin() + static_cast<long>(want.size())), want) << i;
    EXPECT_EQ(plain_rows[i].segments.front(), static_cast<int32_t>(want.size())) << i;  // the rest is padding
  }

  const auto windows = peer("pretrain.json");
  const auto cfg = stream_config(f->tokdir, docs, "");
  const auto strategy = axl::data::make_prompt_strategy(cfg.pretraining_dataset[0], cfg, *f->tok);
  const auto rows = axl::data::read_rows_from_file(docs);
  ASSERT_EQ(rows.size(), windows.size());
  for (size_t d = 0; d < rows.size(); ++d) {
    std::vector<axl::data::TokenizedSample> samples;
    strategy->tokenize(rows[d].value, samples);
    ASSERT_EQ(samples.size(), windows[d].size()) << "document " << d;
    for (size_t k = 0; k < samples.size(); ++k)
      EXPECT_EQ(samples[k].input_ids, windows[d][k].get<std::vector<TokenId>>()) << d << "/" << k;
  }
}

}  // namespace
