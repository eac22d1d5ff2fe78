// Streams one JSON Lines file through the pretraining token stream (data/token_stream.h) the
// way `axolotl train` reads a pretraining_dataset: pretrain strategy, packed rows of
// micro_batch_size x sequence_len. Consumes the whole file (one pass) or --max-rows rows and
// prints one JSON line: rows, documents, tokens, seconds, tokens/s and the peak RSS (VmHWM).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "axl/data/token_stream.h"
#include "axl/tokenizer/tokenizer.h"

namespace {

long status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("stream a JSONL file through the token stream and report peak RSS");
  std::string tokenizer_dir, file;
  int64_t sequence_len = 2048, micro_batch_size = 1;
  int threads = 0;
  uint64_t max_rows = 0;
  app.add_option("--tokenizer", tokenizer_dir, "tokenizer folder")->required();
  app.add_option("--file", file, "JSON Lines file with a text column")->required();
  app.add_option("--sequence-len", sequence_len);
  app.add_option("--micro-batch-size", micro_batch_size);
  app.add_option("--threads", threads, "tokenizer workers (0: all cores)");
  app.add_option("--max-rows", max_rows, "stop after this many rows (0: the whole file)");
  CLI11_PARSE(app, argc, argv);
  try {
    auto tok = axl::tokenizer::load_tokenizer(tokenizer_dir);
    axl::config::Config cfg;
    cfg.sequence_len = sequence_len;
    cfg.micro_batch_size = micro_batch_size;
    cfg.sample_packing = true;
    cfg.max_steps = 1;
    axl::config::DatasetConfig ds;
    ds.path = file;
    ds.type = "pretrain";
    cfg.pretraining_dataset.push_back(ds);
    const auto source = axl::data::make_stream_source(cfg, *tok);
    const long rss_before = status_kib("VmRSS");
    axl::data::TokenStreamOptions o;
    o.threads = threads;
    o.loop = false;
    const auto t0 = std::chrono::steady_clock::now();
    axl::data::TokenStream stream(source, o);
    axl::data::PackedRow row;
    uint64_t rows = 0;
    while ((max_rows == 0 || rows < max_rows) && stream.next(row)) ++rows;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << nlohmann::json{{"bench", "stream_rss"},
                                {"file_bytes", source.identity().sizes.at(0)},
                                {"rows", rows},
                                {"row_tokens", source.layout.capacity},
                                {"documents", stream.documents()},
                                {"tokens", stream.sample_tokens()},
                                {"seconds", s},
                                {"tokens_per_s", s > 0 ? static_cast<double>(stream.sample_tokens()) / s : 0.0},
                                {"threads", threads},
                                {"rss_after_tokenizer_kib", rss_before},
                                {"vmhwm_kib", status_kib("VmHWM")}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "stream_rss: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
