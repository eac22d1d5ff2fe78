// `axolotl quantize CONFIG|--model DIR --out DIR`: write a bitsandbytes-format checkpoint
// (4-bit NF4 with double quantisation by default) that transformers and our loader read.
// With a config: base_model, its bnb_config_kwargs / load_in_8bit, output_dir/quantized.
#include <filesystem>
#include <iostream>

#include "axl/cli/commands.h"
#include "axl/cli/quantize_options.h"
#include "axl/cli/torch_loader.h"
#include "axl/config/load_config.h"
#include "axl/core/error.h"

namespace axl::cli {

void add_quantize_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config;
    bool no_double_quant = false;
    QuantizeOptions opts;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize a Hugging Face model's linear weights; write a bitsandbytes-format folder");
  cmd->add_option("config", args->config, "an Axolotl YAML config (base_model, output_dir)");
  cmd->add_option("--model", args->opts.model, "Hugging Face model folder (default: the config's base_model)");
  cmd->add_option("--out", args->opts.out, "folder to write (default: output_dir/quantized)");
  cmd->add_option("--bits", args->opts.bits, "4 or 8")->capture_default_str()->check(CLI::IsMember({4, 8}));
  cmd->add_option("--quant-type", args->opts.quant_type, "nf4 or fp4 (4-bit)")->capture_default_str()
      ->check(CLI::IsMember({"nf4", "fp4"}));
  cmd->add_option("--blocksize", args->opts.blocksize, "values per absmax block (32..4096)")->capture_default_str();
  cmd->add_flag("--no-double-quant", args->no_double_quant, "keep the float32 block scales (no double quantisation)");
  cmd->add_option("--compute-dtype", args->opts.compute_dtype, "bnb_4bit_compute_dtype to record")->capture_default_str();
  add_common_torch_options(*cmd, args->opts.common);
  cmd->allow_extras();
  cmd->callback([cmd, args, &exit_code] {
    QuantizeOptions& o = args->opts;
    o.double_quant = !args->no_double_quant;
    if (!args->config.empty()) {
      config::LoadOptions lo;
      lo.overrides = cmd->remaining();
      const config::LoadResult loaded = config::load_config(args->config, lo);
      for (const auto& w : loaded.warnings) std::cerr << "axolotl: warning: " << w << "\n";
      const config::Config& cfg = loaded.config;
      if (o.model.empty()) o.model = cfg.model.dir;
      if (o.out.empty()) o.out = (std::filesystem::path(cfg.output_dir) / "quantized").string();
      // The config's quantization settings where no flag overrides them.
      if (cfg.load_in_8bit && cmd->count("--bits") == 0) o.bits = 8;
      const nlohmann::json& kw = cfg.bnb_config_kwargs;
      if (kw.contains("bnb_4bit_quant_type") && kw["bnb_4bit_quant_type"].is_string() && cmd->count("--quant-type") == 0)
        o.quant_type = kw["bnb_4bit_quant_type"].get<std::string>();
      if (kw.contains("bnb_4bit_use_double_quant") && kw["bnb_4bit_use_double_quant"].is_boolean() &&
          cmd->count("--no-double-quant") == 0)
        o.double_quant = kw["bnb_4bit_use_double_quant"].get<bool>();
      if (kw.contains("bnb_4bit_compute_dtype") && kw["bnb_4bit_compute_dtype"].is_string() &&
          cmd->count("--compute-dtype") == 0)
        o.compute_dtype = kw["bnb_4bit_compute_dtype"].get<std::string>();
    } else {
      if (!cmd->remaining().empty()) throw Error("quantize: unknown option " + cmd->remaining().front());
      if (o.model.empty() || o.out.empty()) throw Error("quantize: give a CONFIG, or both --model and --out");
    }
    exit_code = run_in_torch("axl_quantize_main", o);
  });
}

}  // namespace axl::cli
