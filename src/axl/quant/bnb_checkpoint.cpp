#include "axl/quant/bnb_checkpoint.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <cstring>
#include <set>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"
#include "axl/core/safetensors.h"
#include "axl/core/tensor_io.h"
#include "axl/models/model_config.h"
#include "axl/models/weight_names.h"
#include "axl/quant/quantized_linear.h"

namespace axl::quant {

namespace fs = std::filesystem;

namespace {

const char* kStatePrefix = ".quant_state.bitsandbytes__";

std::string bytes_to_string(const at::Tensor& t) {
  at::Tensor b = t.to(at::kCPU).contiguous().view(at::kByte);
  return std::string(reinterpret_cast<const char*>(b.data_ptr<uint8_t>()), static_cast<std::size_t>(b.numel()));
}

at::Tensor string_to_bytes(const std::string& s) {
  at::Tensor t = at::empty({static_cast<int64_t>(s.size())}, at::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
  return t;
}

at::ScalarType dtype_from_state(const std::string& s, const std::string& where) {
  return parse_compute_dtype(s, where);
}

nlohmann::json read_config(const std::string& model_dir) {
  return read_json_file((fs::path(model_dir) / "config.json").string());
}

}  // namespace

bool is_bnb_checkpoint(const std::string& model_dir) {
  const fs::path p = fs::path(model_dir) / "config.json";
  if (!fs::exists(p)) return false;
  nlohmann::json c = read_json_file(p.string());
  return c.is_object() && c.contains("quantization_config") && c["quantization_config"].is_object() &&
         c["quantization_config"].value("quant_method", std::string()) == "bitsandbytes";
}

std::map<std::string, at::Tensor> quant_state_entries(const std::string& key, const Quantized4bit& q) {
  std::map<std::string, at::Tensor> out;
  out[key] = q.packed.to(at::kCPU).contiguous();
  out[key + ".absmax"] = q.absmax.to(at::kCPU).contiguous();
  out[key + ".quant_map"] = q.code.to(at::kCPU).contiguous();
  // bitsandbytes' QuantState.as_dict(packed=True): the non-tensor items as JSON, in its order.
  nlohmann::ordered_json s;
  s["quant_type"] = quant4_type_name(q.type);
  s["blocksize"] = q.blocksize;
  s["dtype"] = dtype_name(q.dtype);
  s["shape"] = q.shape;
  if (q.nested) {
    out[key + ".nested_absmax"] = q.nested_absmax.to(at::kCPU).contiguous();
    out[key + ".nested_quant_map"] = q.nested_code.to(at::kCPU).contiguous();
    s["nested_blocksize"] = q.nested_blocksize;
    s["nested_dtype"] = "float32";
    s["nested_offset"] = static_cast<double>(q.offset);
  }
  // json.dumps separators: ", " and ": ".
  std::string text = s.dump();
  std::string spaced;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    spaced += c;
    if (c == '"' && (i == 0 || text[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == ',' || c == ':')) spaced += ' ';
  }
  out[key + kStatePrefix + quant4_type_name(q.type)] = string_to_bytes(spaced);
  return out;
}

Quantized4bit quant_state_from_entries(const std::string& key,
                                       const std::function<at::Tensor(const std::string&)>& get) {
  at::Tensor state;
  for (const char* t : {"nf4", "fp4"}) {
    at::Tensor s = get(key + kStatePrefix + t);
    if (s.defined()) state = s;
  }
  if (!state.defined()) throw Error(key + ": no quant_state.bitsandbytes__nf4/fp4 entry (not a 4-bit weight)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes_to_string(state));
  } catch (const nlohmann::json::exception& e) {
    throw Error(key + ": quant_state is not valid JSON (" + std::string(e.what()) + ")");
  }
  auto need = [&](const char* k) -> const nlohmann::json& {
    if (!j.contains(k)) throw Error(key + ": quant_state lacks '" + std::string(k) + "'");
    return j[k];
  };
  auto tensor = [&](const std::string& suffix) {
    at::Tensor t = get(key + suffix);
    if (!t.defined()) throw Error(key + ": missing tensor '" + key + suffix + "'");
    return t;
  };
  Quantized4bit q;
  try {
    q.type = parse_quant4_type(need("quant_type").get<std::string>());
    q.blocksize = need("blocksize").get<int64_t>();
    q.dtype = dtype_from_state(need("dtype").get<std::string>(), key);
    q.shape = need("shape").get<std::vector<int64_t>>();
    q.packed = tensor("");
    q.absmax = tensor(".absmax");
    q.code = tensor(".quant_map").to(at::kFloat);
    if (j.contains("nested_absmax") || j.contains("nested_blocksize")) {
      q.nested = true;
      q.nested_blocksize = need("nested_blocksize").get<int64_t>();
      q.offset = static_cast<float>(need("nested_offset").get<double>());
      q.nested_absmax = tensor(".nested_absmax").to(at::kFloat);
      q.nested_code = tensor(".nested_quant_map").to(at::kFloat);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(key + ": bad quant_state (" + std::string(e.what()) + ")");
  }
  if (q.packed.scalar_type() != at::kByte) q.packed = q.packed.contiguous().view(at::kByte);
  if (q.shape.size() != 2) throw Error(key + ": quant_state shape must be 2-D for a linear weight");
  validate_quantized_4bit(q, key);
  return q;
}

models::CausalLM load_bnb_causal_lm(const std::string& model_dir, const models::LoadOptions& opts, QuantizeSpec* spec_out) {
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  nlohmann::json config = read_config(model_dir);
  if (!config.contains("quantization_config"))
    throw Error(config_path + ": no quantization_config (not a bitsandbytes checkpoint)");
  QuantizeSpec spec = spec_from_quantization_config(config["quantization_config"], config_path);
  if (spec_out) *spec_out = spec;
  models::ModelConfig cfg = models::load_model_config(model_dir);
  if (models::weight_names_for(cfg).conv1d)
    throw Error(config_path + ": bitsandbytes checkpoints of GPT-2 style (Conv1D) models are not supported");
  Checkpoint ckpt = Checkpoint::open(model_dir);
  auto get = [&](const std::string& k) -> at::Tensor {
    if (!ckpt.contains(k)) return at::Tensor();
    return tensor_from_view(ckpt.get(k));
  };
  auto is_4bit = [&](const std::string& k) {
    return ckpt.contains(k + kStatePrefix + std::string("nf4")) || ckpt.contains(k + kStatePrefix + std::string("fp4"));
  };
  auto is_8bit = [&](const std::string& k) {
    const std::string suffix = ".weight";
    if (k.size() <= suffix.size() || k.compare(k.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    return ckpt.contains(k.substr(0, k.size() - suffix.size()) + ".SCB");
  };
  models::TensorSource source = [&](const std::string& name, at::IntArrayRef shape) {
    // A quantized weight: a shape-only placeholder, replaced below.
    if (is_4bit(name) || is_8bit(name)) return at::empty(shape, at::TensorOptions().device(at::kMeta).dtype(opts.dtype));
    if (!ckpt.contains(name))
      throw Error(ckpt.source() + ": missing tensor '" + name + "' (needed by model_type " + cfg.model_type + ")");
    at::Tensor t = tensor_from_view(ckpt.get(name));
    if (!t.is_floating_point())
      throw Error(name + ": expected a floating-point tensor, found " + std::string(c10::toString(t.scalar_type())));
    at::Tensor out = t.to(opts.device, opts.dtype).contiguous();
    if (opts.writable && out.data_ptr() == t.data_ptr()) out = out.clone();
    return out;
  };
  models::CausalLM m = models::build_causal_lm(cfg, source, opts);
  const at::ScalarType compute = opts.dtype;  // the model computes in its load dtype
  int quantized = 0;
  for (models::LinearSlot* slot : m.slots()) {
    const std::string key = slot->name + ".weight";
    if (is_4bit(key)) {
      Quantized4bit q = quant_state_from_entries(key, get);
      if (q.shape[0] != slot->base->out_features() || q.shape[1] != slot->base->in_features())
        throw Error(key + ": quant_state shape [" + std::to_string(q.shape[0]) + ", " + std::to_string(q.shape[1]) +
                    "] does not match config.json");
      move_to(q, opts.device);
      slot->base = std::make_shared<Linear4bit>(std::move(q), compute);
      ++quantized;
    } else if (is_8bit(key)) {
      Int8Rowwise q;
      q.codes = get(key);
      q.row_absmax = get(slot->name + ".SCB").to(at::kFloat);
      if (q.codes.scalar_type() != at::kChar || q.codes.dim() != 2 || q.row_absmax.numel() != q.codes.size(0))
        throw Error(key + ": an 8-bit weight must be int8 [out, in] with one SCB value per row");
      at::Tensor fmt = get(slot->name + ".weight_format");
      if (fmt.defined() && fmt.numel() == 1 && fmt.to(at::kLong).item<int64_t>() != 0)
        throw Error(slot->name + ".weight_format: only the row-major format (0) is supported");
      q.codes = q.codes.to(opts.device);
      q.row_absmax = q.row_absmax.to(opts.device);
      slot->base = std::make_shared<Linear8bit>(std::move(q), compute);
      ++quantized;
    }
  }
  if (quantized == 0) throw Error(model_dir + ": config.json says bitsandbytes, but no quantized weights were found");
  return m;
}

namespace {

// Every command that loads a model (forward, generate, inference, merge-lora, train) reads a
// bitsandbytes checkpoint through models::load_causal_lm.
[[maybe_unused]] const bool registered_with_loader = [] {
  models::set_quantized_checkpoint_loader(
      [](const std::string& dir, const models::LoadOptions& o) -> std::optional<models::CausalLM> {
        if (!is_bnb_checkpoint(dir)) return std::nullopt;
        return load_bnb_causal_lm(dir, o);
      });
  return true;
}();

}  // namespace

models::CausalLM load_maybe_quantized(const std::string& model_dir, const models::LoadOptions& opts,
                                      const QuantizeSpec* spec) {
  // A bitsandbytes checkpoint comes back quantized already; its slots are left as they are.
  models::CausalLM m = models::load_causal_lm(model_dir, opts);
  if (spec) quantize_linear_slots(m, *spec);
  return m;
}

void save_bnb_checkpoint(const models::CausalLM& model_in, const std::string& base_dir, const std::string& out_dir,
                         const QuantizeSpec& spec) {
  auto& model = const_cast<models::CausalLM&>(model_in);  // slots() is not const; nothing changes
  if (fs::absolute(base_dir).lexically_normal() == fs::absolute(out_dir).lexically_normal())
    throw Error("quantize output folder must differ from the model folder " + base_dir);
  if (models::weight_names_for(model.config).conv1d)
    throw Error("quantizing GPT-2 style Conv1D models is not supported");
  std::map<std::string, models::LinearSlot*> quantized;
  for (models::LinearSlot* slot : model.slots()) {
    if (!slot->adapters.empty()) throw Error("cannot save a quantized model: " + slot->name + " holds an adapter");
    if (std::dynamic_pointer_cast<QuantizedBase>(slot->base)) quantized[slot->name + ".weight"] = slot;
  }
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, t] : model.named_tensors()) {
    auto it = quantized.find(name);
    if (it == quantized.end()) {
      tensors[name] = t.detach().to(at::kCPU).contiguous();
      continue;
    }
    const auto& base = it->second->base;
    if (auto b4 = std::dynamic_pointer_cast<Linear4bit>(base)) {
      for (auto& [k, v] : quant_state_entries(name, b4->q)) tensors[k] = v;
    } else if (auto b8 = std::dynamic_pointer_cast<Linear8bit>(base)) {
      const std::string module = it->second->name;
      tensors[name] = b8->q.codes.to(at::kCPU).contiguous();
      tensors[module + ".SCB"] = b8->q.row_absmax.to(at::kCPU).contiguous();
      tensors[module + ".weight_format"] = at::zeros({}, at::kByte);
    }
  }
  fs::create_directories(out_dir);
  save_safetensors(out_dir + "/model.safetensors", tensors, {{"format", "pt"}});
  for (const char* f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja"}) {
    fs::path src = fs::path(base_dir) / f;
    if (fs::exists(src)) {
      const fs::path tmp = (fs::path(out_dir) / f).string() + ".tmp";
      fs::copy_file(src, tmp, fs::copy_options::overwrite_existing);
      fs::rename(tmp, fs::path(out_dir) / f);
    }
  }
  nlohmann::json c = read_config(base_dir);
  if (!c.is_object()) throw Error(base_dir + "/config.json: not a JSON object");
  c["quantization_config"] = quantization_config_json(spec);
  const std::string dense = dtype_name(model.embed.scalar_type());
  c["dtype"] = dense;
  if (c.contains("torch_dtype")) c["torch_dtype"] = dense;
  write_file_atomic(out_dir + "/config.json", c.dump(2) + "\n");
}

}  // namespace axl::quant
