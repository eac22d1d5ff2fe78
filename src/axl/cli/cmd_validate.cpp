// `axolotl validate CONFIG [--key value ...]`: loads an Axolotl config with its overrides,
// prints the resolved config (YAML, stdout) and the plan (model, parameter counts, attention,
// batch, schedule); with --data it also tokenizes the datasets to count samples, tokens and steps.
// Warnings and unused keys go to stderr. No libtorch: it starts instantly.
#include <iostream>

#include "axl/cli/command_config.h"
#include "axl/cli/commands.h"
#include "axl/config/load_config.h"
#include "axl/config/memory_estimate.h"
#include "axl/config/plan.h"
#include "axl/data/config_tokens.h"
#include "axl/data/prepare.h"
#include "axl/data/sample_packing.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

namespace {

// Tokenizes the config's datasets as `preprocess` does and sums what the plan needs.
config::DataSummary count_data(const config::Config& cfg) {
  auto tok = data::load_config_tokenizer(cfg);  // special_tokens / tokens added
  data::PreparedData prepared = data::prepare_datasets(cfg, *tok);
  config::DataSummary d;
  d.train_samples = static_cast<int64_t>(prepared.train.size());
  d.eval_samples = static_cast<int64_t>(prepared.validation.size());
  for (const auto& s : prepared.stats) {
    d.tokens += static_cast<int64_t>(s.tokens);
    d.trainable_tokens += static_cast<int64_t>(s.trainable_tokens);
    d.dropped += static_cast<int64_t>(s.dropped_long + s.dropped_short);
    d.truncated += static_cast<int64_t>(s.truncated);
  }
  if (cfg.sample_packing) {
    const data::PackingPlan plan =
        data::plan_packing(prepared.train, static_cast<size_t>(cfg.micro_batch_size * cfg.sequence_len));
    d.packed_rows = static_cast<int64_t>(plan.bins.size());
    d.packing_efficiency = plan.efficiency();
  }
  return d;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    std::string device = "cpu";
    bool data = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check an Axolotl YAML config and print the resolved config and the training plan");
  cmd->add_option("config", args->config, "the YAML config")->required();
  cmd->add_option("--device", args->device, "cpu or cuda: what bf16: auto resolves against")->capture_default_str();
  cmd->add_flag("--data", args->data, "also tokenize the datasets to count samples, tokens and steps");
  cmd->footer("Any config key can follow as an override: --learning-rate 1e-4, --micro_batch_size=2,\n"
              "--datasets.0.path=data.jsonl, --sample-packing / --no-sample-packing.");
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    const config::LoadResult loaded = load_command_config(args->config, cmd->remaining(), args->device);
    const config::Config& cfg = loaded.config;
    config::Plan plan = config::make_plan(cfg, cfg.source_file);
    if (args->data) plan.data = count_data(cfg);
    std::cout << "# resolved config (" << args->config << ")\n" << config::resolved_config_yaml(cfg);
    std::cout << "# plan\n" << config::format_plan(cfg, plan);
    const config::RuntimeFiles files = config::runtime_files_for(cfg);
    std::cout << config::format_memory(config::estimate_memory(cfg, plan, config::MemoryDevice::Cpu, files),
                                       config::estimate_memory(cfg, plan, config::MemoryDevice::Cuda, files));
    exit_code = 0;
  });
}

}  // namespace axl::cli
