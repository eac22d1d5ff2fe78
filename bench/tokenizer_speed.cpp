// Tokenizer throughput for bench/tokenizer.py: encodes a text file as one string
// (--mode one_string) or as its lines split on '\n' with encode_batch (--mode lines), best of
// --repeats, without special tokens. Prints one JSON line: {"seconds": ..., "tokens": ...}.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  CLI::App app{"tokenizer throughput"};
  std::string tokenizer, file, mode = "one_string";
  int threads = 1, repeats = 3;
  app.add_option("--tokenizer", tokenizer, "model folder, tokenizer.json or .model")->required();
  app.add_option("--file", file, "UTF-8 text file")->required();
  app.add_option("--mode", mode, "one_string or lines")->check(CLI::IsMember({"one_string", "lines"}));
  app.add_option("--threads", threads, "encode_batch threads for --mode lines (0 = all cores)");
  app.add_option("--repeats", repeats, "runs; the best is reported");
  CLI11_PARSE(app, argc, argv);
  try {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    auto tok = axl::tokenizer::load_tokenizer(tokenizer);
    double load_s = std::chrono::duration<double>(clock::now() - t0).count();
    std::ifstream in(file, std::ios::binary);
    if (!in) throw axl::Error(file + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::vector<std::string> lines;  // like Python's text.split('\n')
    for (size_t b = 0;;) {
      size_t e = text.find('\n', b);
      lines.push_back(text.substr(b, e == std::string::npos ? std::string::npos : e - b));
      if (e == std::string::npos) break;
      b = e + 1;
    }
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < std::max(1, repeats); ++r) {
      auto a = clock::now();
      tokens = 0;
      if (mode == "one_string") {
        tokens = tok->encode(text, false).size();
      } else {
        for (const auto& ids : tok->encode_batch(lines, false, threads)) tokens += ids.size();
      }
      best = std::min(best, std::chrono::duration<double>(clock::now() - a).count());
    }
    std::printf("{\"seconds\": %.6f, \"tokens\": %zu, \"mb_per_s\": %.3f, \"load_seconds\": %.3f}\n", best, tokens,
                text.size() / 1e6 / best, load_s);
  } catch (const axl::Error& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 2;
  }
  return 0;
}
