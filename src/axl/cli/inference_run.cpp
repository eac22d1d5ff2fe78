// The torch side of `axolotl inference`: the config's tokenizer (with its added tokens), the
// prompt formatted as the config's first dataset trains, the base model with the adapter
// attached, then a generation streamed to stdout. Notes go to stderr, so stdout holds only
// the generated text.
#include <algorithm>
#include <iostream>
#include <optional>

#include "axl/cli/cli_adapters.h"
#include "axl/cli/inference_prompt.h"
#include "axl/cli/text_generation.h"
#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/data/config_tokens.h"
#include "axl/models/loader.h"
#include "axl/models/resize_embeddings.h"
#include "axl/quant/quantize_config.h"

namespace axl::cli {

namespace {

void run_inference(const InferenceOptions& o) {
  if (!o.config) throw Error("inference: no config");
  const config::Config& cfg = *o.config;
  apply_common_options(o.common);
  std::unique_ptr<tokenizer::Tokenizer> tok = data::load_config_tokenizer(cfg);
  const InferencePrompt prompt = format_inference_prompt(cfg, *tok, o.prompt, o.raw);
  if (prompt.ids.empty()) throw Error("inference: the prompt encodes to no tokens");

  models::LoadOptions lo;
  lo.device = parse_device(o.common.device);
  lo.dtype = parse_dtype(o.common.dtype);
  models::CausalLM model = models::load_causal_lm(cfg.model.dir, lo);
  // load_in_4bit / load_in_8bit: the base the adapter trained on, as Axolotl's inference loads it.
  if (const auto spec = quant::spec_for_config(cfg, lo.dtype)) quant::quantize_linear_slots(model, *spec);
  // Tokens the config adds need their embedding rows before the adapter (which may carry
  // them as modules_to_save) attaches, as in training.
  models::resize_token_embeddings(model, static_cast<int64_t>(tok->vocab_size()),
                                  {0, false, true, static_cast<uint64_t>(cfg.seed)});
  std::unique_ptr<peft::AdapterSet> adapters = load_cli_adapters(model, o.adapters);
  std::cerr << "inference: " << cfg.model.dir
            << (adapters ? " + " + describe_cli_adapters(o.adapters, adapters.get()) : std::string(" (no adapter)"))
            << ", " << prompt.style << " prompt of " << prompt.ids.size() << " tokens\n";
  if (o.show_prompt) std::cerr << "--- prompt ---\n" << prompt.text << "\n--- end of prompt ---\n";

  models::GenerateOptions go = generate_options(o.gen);
  go.eos_ids = model.config.eos_token_ids;
  if (tok->special_tokens().eos_id) go.eos_ids.push_back(*tok->special_tokens().eos_id);
  go.eos_ids.insert(go.eos_ids.end(), prompt.stop_ids.begin(), prompt.stop_ids.end());
  std::sort(go.eos_ids.begin(), go.eos_ids.end());
  go.eos_ids.erase(std::unique(go.eos_ids.begin(), go.eos_ids.end()), go.eos_ids.end());
  std::vector<int64_t> ids = generate_to_stdout(model, prompt.ids, go, *tok);
  std::cerr << ids.size() << " tokens\n";
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_inference_main(const axl::cli::InferenceOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_inference(*opts); });
}
