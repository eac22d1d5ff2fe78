// `axolotl train CONFIG [--key value ...]`: loads and validates the Axolotl config as `validate`
// does (exit 2 on errors and unsupported keys, before libtorch loads), then trains in the
// torch-linked library.
#include <cstdlib>
#include <iostream>

#include "axl/cli/command_config.h"
#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/config/load_config.h"

namespace axl::cli {

void add_train_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    TrainOptions opts;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune a model (LoRA or full) from an Axolotl YAML config");
  cmd->add_option("config", args->config, "the YAML config")->required();
  cmd->add_option("--device", args->opts.common.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->opts.common.threads, "CPU threads for libtorch (0: its default)");
  cmd->footer("Any config key can follow as an override: --learning-rate 1e-4, --max-steps=20,\n"
              "--datasets.0.path=data.jsonl, --output-dir out.");
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    const config::LoadResult loaded = load_command_config(args->config, cmd->remaining(), args->opts.common.device);
    args->opts.config = &loaded.config;
    // Training is big GEMMs back to back: OpenMP workers that spin between them keep a step
    // 25-30% faster than sleeping ones (the PASSIVE default torch_loader sets for decoding).
    // libgomp reads it once, when libtorch loads; a user's own setting wins.
    ::setenv("OMP_WAIT_POLICY", "ACTIVE", /*overwrite=*/0);
    exit_code = run_in_torch("axl_train_main", args->opts);
  });
}

}  // namespace axl::cli
