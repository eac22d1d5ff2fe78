// `axolotl merge-lora [CONFIG]`: fold an adapter of any mergeable PEFT method (several: one
// after another, or their weighted LoRA combination) into its base model and write a plain
// Hugging Face model folder, sharded as save_pretrained shards. With a config (validated as
// `train` does), as Axolotl's merge-lora: the base model, the adapter in lora_model_dir or
// else output_dir, written to output_dir/merged; --model/--adapter/--out override each.
#include <cmath>
#include <filesystem>
#include <iostream>

#include "axl/cli/command_options.h"
#include "axl/cli/commands.h"
#include "axl/cli/torch_loader.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::cli {

namespace {

// huggingface_hub's parse_size_to_int: a number with a decimal unit (KB, MB, GB, TB; case
// ignored), or a plain number of bytes.
int64_t parse_shard_size(const std::string& text) {
  static const std::pair<const char*, double> units[] = {{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}};
  std::string s = text;
  double multiplier = 1;
  if (s.size() > 2) {
    std::string unit = s.substr(s.size() - 2);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& [name, m] : units)
      if (unit == name) {
        multiplier = m;
        s.resize(s.size() - 2);
      }
  }
  try {
    size_t used = 0;
    const double value = std::stod(s, &used);
    const double bytes = value * multiplier;
    if (used == s.size() && std::isfinite(bytes) && bytes >= 1 && bytes < 9e18) return static_cast<int64_t>(bytes);
  } catch (const std::exception&) {
  }
  throw Error("--max-shard-size '" + text + "': give a size like 5GB, 200MB or a number of bytes");
}

// The dtype Axolotl would load (and so save) the model in for this config.
std::string config_dtype(const config::Config& cfg) {
  if (cfg.bf16) return "bfloat16";
  if (cfg.fp16) return "float16";
  return "float32";
}

}  // namespace

void add_merge_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config, max_shard_size = "50GB";
    MergeOptions opts;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("merge-lora", "Merge PEFT adapters (LoRA, DoRA, IA3, LoHa, ...) into their base model; write a Hugging Face model folder");
  cmd->add_option("config", args->config, "an Axolotl YAML config (base_model, lora_model_dir or output_dir)");
  cmd->add_option("--model", args->opts.model, "base Hugging Face model folder (default: the config's base_model)");
  add_adapter_options(*cmd, args->opts.adapters, "PEFT adapter folder (default: lora_model_dir, else output_dir)");
  cmd->add_option("--out", args->opts.out, "folder to write (default: output_dir/merged)");
  cmd->add_option("--max-shard-size", args->max_shard_size,
                  "largest weight file, as save_pretrained's max_shard_size (5GB, 200MB, bytes)")
      ->capture_default_str();
  add_common_torch_options(*cmd, args->opts.common);
  cmd->footer("With a config, any config key can follow as an override (--output-dir DIR, ...).\n"
              "--dtype sets the written weights' dtype (default: float32, or bf16/fp16 as the config says).");
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    MergeOptions& o = args->opts;
    o.max_shard_bytes = parse_shard_size(args->max_shard_size);
    if (!args->config.empty()) {
      config::LoadOptions lo;
      lo.overrides = cmd->remaining();
      lo.device = o.common.device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
      const config::LoadResult loaded = config::load_config(args->config, lo);
      for (const auto& w : loaded.warnings) std::cerr << "axolotl: warning: " << w << "\n";
      const config::Config& cfg = loaded.config;
      if (o.model.empty()) o.model = cfg.model.dir;
      if (o.adapters.dirs.empty()) o.adapters.dirs = {cfg.lora_model_dir.value_or(cfg.output_dir)};
      if (o.out.empty()) o.out = (std::filesystem::path(cfg.output_dir) / "merged").string();
      if (cmd->count("--dtype") == 0) o.common.dtype = config_dtype(cfg);
    } else {
      if (!cmd->remaining().empty()) throw Error("merge-lora: unknown option " + cmd->remaining().front());
      if (o.model.empty() || o.adapters.dirs.empty() || o.out.empty())
        throw Error("merge-lora: give a CONFIG, or all of --model, --adapter and --out");
    }
    check_adapter_choice(o.adapters, "merge-lora");
    for (const auto& dir : o.adapters.dirs) {
      const nlohmann::json j = read_json_file((std::filesystem::path(dir) / "adapter_config.json").string());
      const std::string type = j.is_object() && j.contains("peft_type") && j["peft_type"].is_string()
                                   ? j["peft_type"].get<std::string>() : std::string();
      if (type == "PREFIX_TUNING" || type == "PROMPT_TUNING" || type == "P_TUNING")
        throw Error("merge-lora: " + dir + " is a " + type + " adapter: it adds virtual tokens, not weight changes, "
                    "so it cannot be merged into the base model (PEFT cannot either); use it with --adapter in "
                    "inference or generate");
    }
    exit_code = run_in_torch("axl_merge_main", o);
  });
}

}  // namespace axl::cli
