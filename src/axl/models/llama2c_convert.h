#pragma once
// `axolotl convert llama2c`: a llama2.c checkpoint + sentencepiece model -> a Hugging Face
// Llama folder that transformers and our loader read. llama2.c rotates adjacent pairs
// (x[2i], x[2i+1]); transformers rotates halves, so wq/wk rows are permuted exactly as
// transformers' own Llama converter does and no flag is needed downstream.
#include <string>

namespace axl::models {

struct Llama2cConvertOptions {
  std::string checkpoint;
  std::string tokenizer;  // tokenizer.model (sentencepiece); optional
  std::string out_dir;
};

void convert_llama2c(const Llama2cConvertOptions& opts);

}  // namespace axl::models
