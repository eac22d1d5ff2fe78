#include "axl/data/instruction_strategy.h"

#include "axl/core/error.h"
#include "axl/data/hf_tokenize.h"

namespace axl::data {

std::string format_named(const std::string& fmt, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  out.reserve(fmt.size() + 256);
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') { out += '{'; ++i; continue; }
    if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') { out += '}'; ++i; continue; }
    if (c == '}') throw Error("format string '" + fmt + "': single '}' (write '}}' for a literal brace)");
    if (c != '{') { out += c; continue; }
    size_t close = fmt.find('}', i + 1);
    if (close == std::string::npos) throw Error("format string '" + fmt + "': unclosed '{'");
    std::string key = fmt.substr(i + 1, close - i - 1);
    bool found = false;
    for (const auto& kv : values)
      if (kv.first == key) { out += kv.second; found = true; break; }
    if (!found) throw Error("format string '" + fmt + "': unknown field {" + key + "}");
    i = close;
  }
  return out;
}

InstructionFormat alpaca_format(const std::string& style) {
  InstructionFormat f;
  f.system_prompt =
      "Below is an instruction that describes a task, paired with an input that provides further context. "
      "Write a response that appropriately completes the request.";
  f.system_no_input_prompt =
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
  if (style.empty() || style == "instruct") {
    f.turn_format = "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";
    f.turn_no_input_format = "### Instruction:\n{instruction}\n\n### Response:\n";
    f.system_format = "{system}\n\n";
  } else if (style == "chat") {
    f.turn_format = "USER: {instruction}\n{input}\nASSISTANT:";
    f.turn_no_input_format = "USER: {instruction}\nASSISTANT:";
    f.system_format = "SYSTEM: {system}\n";
  } else if (style == "chatml") {
    f.turn_format = "<|im_start|>user\n{instruction}\n{input}<|im_end|>\n<|im_start|>assistant\n";
    f.turn_no_input_format = "<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n";
    f.system_format = "<|im_start|>system\n{system}<|im_end|>\n";
  } else if (style == "phi") {
    f.turn_format = "<|user|>\n{instruction}<|end|>{input}<|assistant|>";
    f.turn_no_input_format = "<|user|>\n{instruction}<|end|>\n<|assistant|>\n";
    f.system_format = "<|system|>\n{system}<|end|>\n";
  } else {
    throw Error("unknown alpaca prompt style '" + style + "' (instruct, chat, chatml or phi)");
  }
  return f;
}

InstructionFormat user_defined_format(const config::UserDefinedType& t) {
  InstructionFormat f;
  // SystemDataPrompter: the row's system field, else system_prompt; no built-in alpaca text.
  f.system_prompt = f.system_no_input_prompt = t.system_prompt.value_or("");
  f.system_format = t.system_format.value_or("{system}");
  f.turn_format = t.format.value_or("{instruction} {input} ");
  f.turn_no_input_format = t.no_input_format.value_or("{instruction} ");
  f.field_system = t.field_system.value_or("system");
  f.field_instruction = t.field_instruction.value_or("instruction");
  f.field_input = t.field_input.value_or("input");
  f.field_output = t.field_output.value_or("output");
  f.output_required = false;
  return f;
}

namespace {

class InstructionStrategy : public PromptStrategy {
 public:
  InstructionStrategy(InstructionFormat f, std::string name, const config::Config& cfg, const tokenizer::Tokenizer& tok)
      : f_(std::move(f)), name_(std::move(name)), tok_(tok), train_on_inputs_(cfg.train_on_inputs),
        max_length_(static_cast<size_t>(cfg.sequence_len)) {
    // Fail at load time, not on the first row, for a format with an unknown field.
    std::vector<std::pair<std::string, std::string>> probe{{"instruction", ""}, {"input", ""}, {"system", ""}};
    format_named(f_.turn_format, probe);
    format_named(f_.turn_no_input_format, probe);
    format_named(f_.system_format, probe);
  }

  std::string name() const override { return name_; }

  void tokenize(const nlohmann::ordered_json& row, std::vector<TokenizedSample>& out) const override {
    const std::string instruction = required_string(row, f_.field_instruction);
    const std::string input = optional_string(row, f_.field_input);
    std::string response = f_.output_required ? required_string(row, f_.field_output) : optional_string(row, f_.field_output);
    if (!f_.response_prefix.empty()) response = f_.response_prefix + response;

    std::string system;
    // A row holding the system field uses it (null: none); otherwise the configured prompt.
    if (!f_.field_system.empty() && row.contains(f_.field_system))
      system = optional_string(row, f_.field_system);
    else
      system = input.empty() ? f_.system_no_input_prompt : f_.system_prompt;

    std::string prompt = system.empty() ? "" : format_named(f_.system_format, {{"system", system}});
    if (!input.empty())
      prompt += format_named(f_.turn_format, {{"instruction", instruction}, {"input", input}});
    else
      prompt += format_named(f_.turn_no_input_format, {{"instruction", instruction}});

    TokenizedSample s;
    s.input_ids = axolotl_tokenize(tok_, prompt, max_length_, /*add_eos_token=*/false, /*strip_bos_token=*/false);
    s.labels = train_on_inputs_ ? s.input_ids : std::vector<TokenId>(s.input_ids.size(), kIgnoreIndex);
    std::vector<TokenId> res = axolotl_tokenize(tok_, response, max_length_, /*add_eos_token=*/true, /*strip_bos_token=*/true);
    s.input_ids.insert(s.input_ids.end(), res.begin(), res.end());
    s.labels.insert(s.labels.end(), res.begin(), res.end());
    out.push_back(std::move(s));
  }

 private:
  InstructionFormat f_;
  std::string name_;
  const tokenizer::Tokenizer& tok_;
  bool train_on_inputs_;
  size_t max_length_;
};

}  // namespace

std::unique_ptr<PromptStrategy> make_instruction_strategy(InstructionFormat format, std::string name,
                                                          const config::Config& cfg, const tokenizer::Tokenizer& tok) {
  return std::make_unique<InstructionStrategy>(std::move(format), std::move(name), cfg, tok);
}

}  // namespace axl::data
