// `axolotl tokenize`: text -> tokens or ids with a model's tokenizer, or a chat rendered with
// its chat template. Front end only (no libtorch).
//   tokenize --tokenizer DIR (--text T | --file F) [--ids] [--no-special]
//   tokenize --tokenizer DIR --chat FILE.json [--add-generation-prompt] [--chat-template NAME]
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "axl/cli/commands.h"
#include "axl/core/error.h"
#include "axl/tokenizer/chat/chat_template.h"
#include "axl/tokenizer/tokenizer.h"

namespace axl::cli {

namespace {

struct TokenizeArgs {
  std::string tokenizer, text, file, chat, chat_template;
  bool ids = false, no_special = false, add_generation_prompt = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// transformers passes the special-tokens map (bos_token, eos_token, ...) to the template.
nlohmann::ordered_json special_tokens_map(const tokenizer::TokenizerConfig& c) {
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  if (c.bos_token) m["bos_token"] = *c.bos_token;
  if (c.eos_token) m["eos_token"] = *c.eos_token;
  if (c.unk_token) m["unk_token"] = *c.unk_token;
  if (c.pad_token) m["pad_token"] = *c.pad_token;
  return m;
}

void render_chat(const TokenizeArgs& a, const tokenizer::Tokenizer& tok) {
  nlohmann::ordered_json req;
  try {
    req = nlohmann::ordered_json::parse(read_file(a.chat));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(a.chat + ": not valid JSON (" + e.what() + ")");
  }
  if (!req.is_object() || !req.contains("messages") || !req["messages"].is_array())
    throw Error(a.chat + ": expected an object with a \"messages\" list");
  const auto& cfg = tok.config();
  std::string source;
  std::string origin;
  if (!a.chat_template.empty()) {
    const std::string* own = cfg.chat_template ? &*cfg.chat_template : nullptr;
    source = chat::resolve_chat_template(a.chat_template, nullptr, own);
    origin = "chat_template " + a.chat_template;
  } else {
    if (!cfg.chat_template)
      throw Error(a.tokenizer + ": the tokenizer has no chat_template (pick one with --chat-template NAME)");
    source = *cfg.chat_template;
    origin = a.tokenizer + " chat_template";
  }
  chat::ChatTemplate tmpl(source, origin);
  nlohmann::ordered_json tools = req.contains("tools") ? req["tools"] : nlohmann::ordered_json();
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  for (auto it = req.begin(); it != req.end(); ++it)
    if (it.key() != "messages" && it.key() != "tools") extra[it.key()] = it.value();
  std::cout << chat::apply_chat_template(tmpl, req["messages"], tools, a.add_generation_prompt,
                                         special_tokens_map(cfg), extra);
}

void run_tokenize(const TokenizeArgs& a) {
  auto tok = tokenizer::load_tokenizer(a.tokenizer);
  if (!a.chat.empty()) return render_chat(a, *tok);
  std::string text = a.file.empty() ? a.text : read_file(a.file);
  std::vector<tokenizer::TokenId> ids = tok->encode(text, !a.no_special);
  if (a.ids) {
    for (std::size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
    return;
  }
  for (tokenizer::TokenId id : ids) std::cout << tok->id_to_token(id) << "\n";
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Encode text, or render a chat, with a model's tokenizer");
  cmd->add_option("--tokenizer", a->tokenizer, "model folder, tokenizer.json or sentencepiece .model")->required();
  auto* text = cmd->add_option("--text", a->text, "text to encode");
  auto* file = cmd->add_option("--file", a->file, "UTF-8 file to encode");
  auto* chat = cmd->add_option("--chat", a->chat, "JSON {\"messages\": [...], \"tools\": ...} to render");
  text->excludes(file)->excludes(chat);
  file->excludes(chat);
  cmd->add_flag("--ids", a->ids, "print the ids as one line of space-separated integers");
  cmd->add_flag("--no-special", a->no_special, "do not add special tokens (BOS, template)");
  cmd->add_flag("--add-generation-prompt", a->add_generation_prompt, "with --chat: end with the assistant prompt");
  cmd->add_option("--chat-template", a->chat_template,
                  "with --chat: a named template (chatml, llama3, ...) instead of the tokenizer's");
  cmd->callback([a, text, file, chat, &exit_code] {
    if (text->count() + file->count() + chat->count() == 0) throw Error("tokenize: give --text, --file or --chat");
    run_tokenize(*a);
    exit_code = 0;
  });
}

}  // namespace axl::cli
