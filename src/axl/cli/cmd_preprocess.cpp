// `axolotl preprocess CONFIG [--debug] [--key value ...]`: tokenizes every dataset of the config
// exactly as Axolotl would and prints the counts (rows, samples, tokens, trainable tokens,
// dropped/truncated). --debug prints the first samples token by token, coloured by label mask
// (green trained, red masked), like Axolotl's --debug. No libtorch. The result is cached
// under dataset_prepared_path (default last_run_prepared), where `train` reuses it; a matching
// cache is reused here too unless --rebuild-cache.
#include <chrono>
#include <iostream>
#include <optional>
#include <sys/resource.h>
#include <unistd.h>

#include "axl/cli/commands.h"
#include "axl/config/load_config.h"
#include "axl/data/debug_print.h"
#include "axl/data/config_tokens.h"
#include "axl/data/prepare.h"
#include "axl/data/prepared_cache.h"
#include "axl/data/sample_packing.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

namespace {
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}
}  // namespace

void add_preprocess_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    bool debug = false;
    int debug_samples = 5;
    int threads = 0;
    std::string color = "auto";
    bool rebuild_cache = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("preprocess", "Tokenize the config's datasets and print sample and token counts");
  cmd->add_option("config", args->config, "the YAML config")->required();
  cmd->add_flag("--debug", args->debug, "print the first samples token by token, coloured by label mask");
  cmd->add_option("--debug-num-examples", args->debug_samples, "samples printed by --debug")->capture_default_str();
  cmd->add_option("--threads", args->threads, "tokenizer threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--rebuild-cache", args->rebuild_cache, "tokenize again and replace a matching dataset cache");
  cmd->add_option("--color", args->color, "auto, always or never (ANSI colours in --debug)")->capture_default_str();
  cmd->footer("Any config key can follow as an override: --sequence-len 1024, --datasets.0.path=data.jsonl.");
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    config::LoadOptions opts;
    opts.overrides = cmd->remaining();
    const config::LoadResult loaded = config::load_config(args->config, opts);
    for (const auto& w : loaded.warnings) std::cerr << "axolotl: warning: " << w << "\n";
    const config::Config& cfg = loaded.config;
    // Loaded only when needed (no matching dataset cache, or --debug): a cache hit skips it.
    std::unique_ptr<tokenizer::Tokenizer> tok;
    double load_secs = 0, load_cpu_secs = 0;  // reported apart from the preparing
    auto tokenizer = [&]() -> const tokenizer::Tokenizer& {
      if (!tok) {
        const auto l0 = std::chrono::steady_clock::now();
        const double c0 = process_cpu_seconds();
        tok = data::load_config_tokenizer(cfg);  // special_tokens / tokens added
        load_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - l0).count();
        load_cpu_secs = process_cpu_seconds() - c0;
      }
      return *tok;
    };

    data::PrepareOptions popts;
    popts.threads = args->threads;
    if (!cfg.dataset_prepared_path)
      std::cerr << "axolotl: warning: dataset_prepared_path is not set; writing the dataset cache to "
                << data::kDefaultPreparedPath << "\n";
    data::CacheOptions cache;
    cache.rebuild = args->rebuild_cache;
    cache.log = [](const std::string& line) {
      if (line.rfind("warning: ", 0) == 0) std::cerr << "axolotl: " << line << "\n";
      else std::cout << line << "\n";
    };
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_seconds();
    data::PreparedData prepared = data::prepare_datasets_cached(cfg, tokenizer, popts, cache);
    // The packed rows train would use (Axolotl's preprocess estimates them too), timed with the rest.
    std::optional<data::PackingPlan> packing;
    if (cfg.sample_packing && prepared.train.size() > 0)
      packing = data::plan_packing(prepared.train, static_cast<size_t>(cfg.micro_batch_size * cfg.sequence_len));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - load_secs;
    // All threads; on a busy machine wall time says little.
    const double cpu_secs = process_cpu_seconds() - cpu0 - load_cpu_secs;

    size_t rows = 0, samples = 0, kept = 0, tokens = 0, trainable = 0, long_drop = 0, short_drop = 0, truncated = 0;
    for (const auto& s : prepared.stats) {
      std::cout << "dataset " << s.path << " (" << s.type << ", " << s.split_role << "): " << s.rows << " rows, "
                << s.samples << " samples, kept " << s.kept << ", dropped " << s.dropped_long << " too long and "
                << s.dropped_short << " too short, truncated " << s.truncated << "; " << s.tokens << " tokens, "
                << s.trainable_tokens << " trainable\n";
      rows += s.rows;
      samples += s.samples;
      kept += s.kept;
      tokens += s.tokens;
      trainable += s.trainable_tokens;
      long_drop += s.dropped_long;
      short_drop += s.dropped_short;
      truncated += s.truncated;
    }
    std::cout << "total: " << rows << " rows, " << samples << " samples, kept " << kept << " (train "
              << prepared.train.size() << ", validation " << prepared.validation.size() << "), dropped " << long_drop
              << " too long (> sequence_len " << cfg.sequence_len << ") and " << short_drop << " too short (< min_sample_len "
              << cfg.min_sample_len << "), truncated " << truncated << "; " << tokens << " tokens, " << trainable
              << " trainable\n";
    if (packing)
      std::cout << "sample packing: " << packing->bins.size() << " rows of " << packing->capacity << " tokens, "
                << packing->packed_tokens << " tokens packed, efficiency " << packing->efficiency() << "\n";
    if (tok) std::cout << "tokenizer loaded in " << load_secs << " s (" << load_cpu_secs << " s CPU)\n";
    std::cout << "prepared in " << secs << " s (" << (secs > 0 ? static_cast<double>(rows) / secs : 0.0)
              << " rows/s, " << cpu_secs << " s CPU)\n";
    if (args->debug) {
      const bool color = args->color == "always" || (args->color == "auto" && ::isatty(STDOUT_FILENO));
      const size_t n = std::min<size_t>(static_cast<size_t>(std::max(0, args->debug_samples)), prepared.train.size());
      for (size_t i = 0; i < n; ++i) {
        std::cout << "--- train sample " << i << " (" << prepared.train.input_ids(i).size() << " tokens)\n"
                  << data::format_sample_debug(tokenizer(), prepared.train.input_ids(i), prepared.train.labels(i), color) << "\n";
      }
    }
    exit_code = 0;
  });
}

}  // namespace axl::cli
