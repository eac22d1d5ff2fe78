// The torch side of `axolotl generate` (with --adapter: on the model with its adapters).
#include <iostream>
#include <memory>
#include <sstream>

#include "axl/cli/cli_adapters.h"
#include "axl/cli/text_generation.h"
#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/models/generation.h"
#include "axl/models/loader.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

namespace {

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::istringstream is(text);
  std::string tok;
  while (is >> tok) {
    try {
      std::size_t used = 0;
      long long v = std::stoll(tok, &used);
      if (used != tok.size()) throw std::invalid_argument(tok);
      ids.push_back(v);
    } catch (const std::exception&) {
      throw Error("--prompt-ids: '" + tok + "' is not an integer token id");
    }
  }
  return ids;
}

void run_generate(const GenerateOptions& o) {
  apply_common_options(o.common);
  models::LoadOptions lo;
  lo.device = parse_device(o.common.device);
  lo.dtype = parse_dtype(o.common.dtype);
  // A text prompt goes through the model's tokenizer, and the output streams back as text.
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::vector<int64_t> prompt;
  if (!o.prompt_text.empty()) {
    tok = tokenizer::load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer);
    for (tokenizer::TokenId id : tok->encode(o.prompt_text, !o.no_special)) prompt.push_back(id);
    if (prompt.empty()) throw Error("--prompt: the text encodes to no tokens");
  } else {
    prompt = parse_ids(o.prompt_ids);
  }
  models::CausalLM model = models::load_causal_lm(o.model, lo);
  std::unique_ptr<peft::AdapterSet> adapters = load_cli_adapters(model, o.adapters);
  if (adapters) std::cerr << "generate: " << describe_cli_adapters(o.adapters, adapters.get()) << "\n";
  const models::GenerateOptions go = generate_options(o.gen);
  if (tok && !o.output_ids) {
    std::vector<int64_t> ids = generate_to_stdout(model, prompt, go, *tok);
    std::cerr << ids.size() << " tokens\n";
    return;
  }
  std::vector<int64_t> ids = models::generate(model, prompt, go, [&](int64_t id) {
    if (!o.output_ids) std::cerr << id << ' ' << std::flush;
  });
  if (o.output_ids) {
    for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
  } else {
    std::cerr << "\n" << ids.size() << " tokens\n";
  }
}

}  // namespace
}  // namespace axl::cli

AXL_EXPORT int axl_generate_main(const axl::cli::GenerateOptions* opts) {
  return axl::cli::guarded([&] { axl::cli::run_generate(*opts); });
}
