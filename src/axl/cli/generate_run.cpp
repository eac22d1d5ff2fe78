// The torch side of `axolotl generate`.
#include <iostream>
#include <sstream>

#include "axl/cli/torch_entry.h"
#include "axl/cli/torch_runtime.h"
#include "axl/core/device.h"
#include "axl/core/error.h"
#include "axl/models/generation.h"
#include "axl/models/loader.h"

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
  std::vector<int64_t> prompt = parse_ids(o.prompt_ids);
  models::CausalLM model = models::load_causal_lm(o.model, lo);
  models::GenerateOptions go;
  go.max_new_tokens = o.max_new_tokens;
  go.sampling.temperature = o.temperature;
  go.sampling.top_k = o.top_k;
  go.sampling.top_p = o.top_p;
  go.sampling.repetition_penalty = o.repetition_penalty;
  go.sampling.seed = o.seed;
  go.stop_at_eos = !o.ignore_eos;
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
