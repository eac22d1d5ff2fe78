#pragma once
// A prompt strategy turns one dataset row into tokenized samples (input_ids + labels), as the
// Axolotl strategy of the same `type:` does. Strategies are immutable after construction and
// called from several worker threads at once.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "axl/config/config.h"
#include "axl/data/tokenized_store.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::data {

struct TokenizedSample {
  std::vector<TokenId> input_ids;
  std::vector<TokenId> labels;  // kIgnoreIndex where masked
};

class PromptStrategy {
 public:
  virtual ~PromptStrategy() = default;
  // Appends the samples of `row` to `out` (usually one; completion may split into several).
  // Throws axl::Error (without the row's location: the caller adds it) for bad rows.
  virtual void tokenize(const nlohmann::ordered_json& row, std::vector<TokenizedSample>& out) const = 0;
  // A short name for messages ("alpaca:chatml", "chat_template", ...).
  virtual std::string name() const = 0;
};

// The strategy for a `datasets:` entry (its `type:`), with Axolotl's defaults.
// Throws axl::Error naming ds.where for an unknown type or a bad option.
std::unique_ptr<PromptStrategy> make_prompt_strategy(const config::DatasetConfig& ds, const config::Config& cfg,
                                                     const tokenizer::Tokenizer& tok);

// Helpers shared by the strategies.
// A required string field of a row; axl::Error naming the field when absent or not a string.
std::string required_string(const nlohmann::ordered_json& row, const std::string& field);
// An optional string field: "" when absent or null.
std::string optional_string(const nlohmann::ordered_json& row, const std::string& field);

}  // namespace axl::data
