#include "axl/cli/text_generation.h"

#include <iostream>

#include "axl/tokenizer/text_streamer.h"

namespace axl::cli {

models::GenerateOptions generate_options(const GenerationFlags& g) {
  models::GenerateOptions go;
  go.max_new_tokens = g.max_new_tokens;
  go.sampling.temperature = g.temperature;
  go.sampling.top_k = g.top_k;
  go.sampling.top_p = g.top_p;
  go.sampling.repetition_penalty = g.repetition_penalty;
  go.sampling.seed = g.seed;
  go.stop_at_eos = !g.ignore_eos;
  return go;
}

std::vector<int64_t> generate_to_stdout(const models::CausalLM& model, const std::vector<int64_t>& prompt,
                                        const models::GenerateOptions& opts, const tokenizer::Tokenizer& tok) {
  tokenizer::TextStreamer streamer(tok);
  std::vector<int64_t> ids = models::generate(model, prompt, opts, [&](int64_t id) {
    std::cout << streamer.put(static_cast<tokenizer::TokenId>(id)) << std::flush;
  });
  std::cout << streamer.flush() << std::endl;
  return ids;
}

}  // namespace axl::cli
