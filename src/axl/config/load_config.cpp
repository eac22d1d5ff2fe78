#include "axl/config/load_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "axl/config/axolotl_schema.h"
#include "axl/config/config_fields.h"
#include "axl/config/key_support.h"
#include "axl/config/model_source.h"
#include "axl/config/overrides.h"
#include "axl/config/yaml_reader.h"
#include "axl/core/error.h"

namespace axl::config {

namespace {

// A key that stops the load, with where it was set.
struct Unimplemented {
  std::string where, key, value, note;
};

std::string one_line(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  std::string s = e.c_str();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Implemented keys whose value may still ask for something we do not have.
std::string unimplemented_value(const std::string& key, const YAML::Node& n) {
  if (!n.IsScalar() || is_null(n)) return "";
  const std::string v = n.Scalar();
  if (key == "adapter" && v == "llama-adapter") return "llama-adapter is not implemented";
  if (key == "optimizer" && schema::is_optimizer(v) && !optimizer_implemented(v))
    return "this optimizer is not implemented yet (implemented: adamw_torch, adamw_torch_fused, adamw_bnb_8bit, "
           "adamw_8bit, paged_adamw_8bit, paged_adamw_32bit, lion_8bit, lion_32bit, paged_lion_8bit, "
           "paged_lion_32bit, adafactor)";
  if (key == "lr_scheduler" && schema::is_lr_scheduler(v) && !lr_scheduler_implemented(v))
    return "this scheduler is not implemented yet (implemented: linear, cosine, cosine_with_min_lr, "
           "constant, constant_with_warmup)";
  if (key == "gradient_checkpointing" && v == "offload_disk")
    return "checkpoints offloaded to disk are not implemented yet (offload, to pinned host memory, is)";
  if (key == "model_type" && v != "AutoModelForCausalLM" &&
      (v.size() < 11 || v.compare(v.size() - 11, 11, "ForCausalLM") != 0))
    return "only causal language models (AutoModelForCausalLM) are implemented";
  if (key == "save_strategy" && v == "best") return "best-model checkpointing is not implemented yet";
  return "";
}

class KeyScan {
 public:
  KeyScan(const Origin& origin, bool strict, LoadResult& result)
      : origin_(origin), strict_(strict), result_(result) {}

  void top_level(const YAML::Node& root) {
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const std::string where = origin_.where(key, kv.first);
      // Axolotl 0.19 refuses these (check_deprecated_unsloth_fields); so do we, with its advice.
      if (key.rfind("unsloth_", 0) == 0 && is_truthy(kv.second)) {
        stop({where, key, one_line(kv.second),
              "Axolotl removed the unsloth_* keys; use lora_mlp_kernel, lora_qkv_kernel, lora_o_kernel (on by "
              "default for LoRA; RoPE and RMSNorm functions are always on in training)"});
        continue;
      }
      if (!schema::is_top_level_key(key)) {
        unknown(where, key, key, schema::top_level_keys());
        continue;
      }
      const KeyInfo info = top_level_key_support(key);
      if (info.support == KeySupport::Unused && !is_null(kv.second))
        result_.unused.push_back(key + " (" + where + "): " + info.note);
      if (info.support == KeySupport::Unimplemented && is_truthy(kv.second))
        stop({where, key, one_line(kv.second), info.note});
      if (info.support == KeySupport::Implemented) {
        std::string note = unimplemented_value(key, kv.second);
        if (!note.empty()) stop({where, key, kv.second.Scalar(), note});
      }
      if ((key == "datasets" || key == "test_datasets") && kv.second.IsSequence()) datasets(key, kv.second);
      if (key == "special_tokens" && kv.second.IsMap())
        for (const auto& st : kv.second)
          if (!schema::is_special_tokens_key(st.first.Scalar()))
            unknown(origin_.where(key, st.first), key + "." + st.first.Scalar(), st.first.Scalar(),
                    {"bos_token", "eos_token", "pad_token", "unk_token", "additional_special_tokens"});
    }
  }

  // Throws for the first unimplemented key in file order, naming the others on the same line.
  void finish() const {
    if (stops_.empty()) return;
    const Unimplemented& u = stops_.front();
    std::string msg = u.where + ": `" + u.key + ": " + u.value + "` is not supported by axolotl-cpp: " +
                      u.note + "; remove the key (or set it to false/null) to run without it";
    if (stops_.size() > 1) {
      msg += " (also unsupported:";
      for (std::size_t i = 1; i < stops_.size(); ++i) msg += " " + stops_[i].key;
      msg += ")";
    }
    throw Error(msg);
  }

 private:
  void datasets(const std::string& list_key, const YAML::Node& list) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      if (!entry.IsMap()) continue;  // read_datasets reports it
      const std::string base = list_key + "." + std::to_string(i);
      for (const auto& kv : entry) {
        const std::string key = kv.first.Scalar();
        const std::string where = origin_.where(base + "." + key, kv.first);
        if (!schema::is_dataset_key(key)) {
          std::string hint;
          if (key == "train_on_inputs") hint = "; Axolotl reads only the top-level train_on_inputs";
          unknown(where, base + "." + key, key, schema::dataset_keys(), hint);
          continue;
        }
        const KeyInfo info = dataset_key_support(key);
        if (info.support == KeySupport::Unused && !is_null(kv.second))
          result_.unused.push_back(base + "." + key + " (" + where + "): " + info.note);
        if (info.support == KeySupport::Unimplemented && is_truthy(kv.second))
          stop({where, base + "." + key, one_line(kv.second), info.note});
      }
    }
  }

  void unknown(const std::string& where, const std::string& shown, const std::string& key,
               const std::vector<std::string>& known, const std::string& hint = "") {
    std::string guess = schema::closest(key, known);
    std::string msg = where + ": unknown key '" + shown + "': not in Axolotl " +
                      schema::axolotl_version() + "'s schema" +
                      (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + hint;
    if (strict_) throw Error(msg + "; remove it or fix its spelling (strict: true makes this an error)");
    result_.warnings.push_back(msg + "; ignored");
  }

  void stop(Unimplemented u) { stops_.push_back(std::move(u)); }

  const Origin& origin_;
  bool strict_;
  LoadResult& result_;
  std::vector<Unimplemented> stops_;
};

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                ": invalid YAML: " + e.msg + "; check the indentation and quoting on that line");
  }
}

ModelSource resolve(const Origin& origin, const YAML::Node& root, const char* key, const std::string& spec,
                    const std::optional<std::string>& revision) {
  return resolve_model_source(spec, revision, key, origin.where(key, root[key]));
}

}  // namespace

bool optimizer_implemented(const std::string& name) {
  static const std::set<std::string> ok = {"adamw_torch",       "adamw_torch_fused", "adamw_bnb_8bit",
                                           "adamw_8bit",        "paged_adamw_8bit",  "paged_adamw_32bit",
                                           "lion_8bit",         "lion_32bit",        "paged_lion_8bit",
                                           "paged_lion_32bit",  "adafactor"};
  return ok.count(name) > 0;
}

bool lr_scheduler_implemented(const std::string& name) {
  static const std::set<std::string> ok = {"linear", "cosine", "cosine_with_min_lr", "constant",
                                           "constant_with_warmup"};
  return ok.count(name) > 0;
}

namespace {

LoadResult load_checked(const std::string& yaml_text, const std::string& name, const LoadOptions& options) {
  LoadResult result;
  Origin origin{name, {}};
  YAML::Node root = parse_yaml(yaml_text, name);
  if (is_null(root)) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw Error(name + ": the config must be a mapping of `key: value` lines, got " + describe(root));

  for (const auto& o : parse_overrides(options.overrides)) {
    apply_override(root, o);
    origin.overridden[o.dotted()] = o.arg;
  }

  const YAML::Node const_root = root;  // reads below must not add keys
  Config& cfg = result.config;
  cfg.source_file = name;
  cfg.strict = Reader(origin, const_root, "").get("strict", false);

  KeyScan scan(origin, cfg.strict, result);
  scan.top_level(const_root);
  scan.finish();

  read_top_level_fields(origin, const_root, cfg);
  cfg.datasets = read_datasets(origin, const_root, "datasets", result.warnings);
  cfg.test_datasets = read_datasets(origin, const_root, "test_datasets", result.warnings);
  cfg.pretraining_dataset = read_pretraining_datasets(origin, const_root, result.warnings);
  derive_values(origin, const_root, options.device, cfg, result.warnings);

  if (options.resolve_models) {
    cfg.model = resolve(origin, const_root, "base_model", cfg.base_model, cfg.model_revision);
    cfg.model_config_dir = cfg.base_model_config == cfg.base_model
                               ? cfg.model
                               : resolve(origin, const_root, "base_model_config", cfg.base_model_config,
                                         cfg.model_revision);
    cfg.tokenizer_dir = cfg.tokenizer_config == cfg.base_model_config
                            ? cfg.model_config_dir
                            : resolve(origin, const_root, "tokenizer_config", cfg.tokenizer_config,
                                      std::nullopt);
  }
  return result;
}

}  // namespace

LoadResult load_config_text(const std::string& yaml_text, const std::string& name, const LoadOptions& options) {
  try {
    return load_checked(yaml_text, name, options);
  } catch (const YAML::Exception& e) {
    // A shape we did not expect (e.g. a list where a mapping goes): still one clear line.
    throw Error(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                ": unexpected YAML structure: " + e.msg);
  }
}

LoadResult load_config(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), path, options);
}

}  // namespace axl::config
