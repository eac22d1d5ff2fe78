#include "axl/core/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"

namespace axl {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw Error(file + ": invalid safetensors file: " + what);
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

TensorInfo parse_entry(const std::string& file, const std::string& name, const json& e,
                       std::size_t data_size) {
  auto where = "tensor '" + name + "'";
  if (!e.is_object()) fail(file, where + " is not a JSON object");
  TensorInfo t;
  t.name = name;
  auto dt = e.find("dtype");
  if (dt == e.end() || !dt->is_string()) fail(file, where + " has no string 'dtype'");
  auto parsed = dtype_from_name(dt->get<std::string>());
  if (!parsed) fail(file, where + " has unsupported dtype '" + dt->get<std::string>() + "'");
  t.dtype = *parsed;

  auto sh = e.find("shape");
  if (sh == e.end() || !sh->is_array()) fail(file, where + " has no 'shape' array");
  // Multiply in unsigned 128-bit-safe steps: a hostile shape must not overflow into a small size.
  uint64_t bytes = dtype_size(t.dtype);
  bool overflow = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
      fail(file, where + " has a shape entry that is not a non-negative integer");
    uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
    t.shape.push_back(static_cast<int64_t>(v));
    if (v != 0 && bytes > std::numeric_limits<uint64_t>::max() / v) overflow = true;
    else bytes *= v;
  }
  auto off = e.find("data_offsets");
  if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    fail(file, where + " needs 'data_offsets' [begin, end] of non-negative integers");
  uint64_t b = (*off)[0].get<uint64_t>(), en = (*off)[1].get<uint64_t>();
  if (b > en) fail(file, where + " has data_offsets begin > end");
  if (en > data_size)
    fail(file, where + " has data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                   "] past the end of the data (" + std::to_string(data_size) +
                   " bytes; truncated file?)");
  if (overflow || bytes != en - b)
    fail(file, where + " has shape and dtype needing " +
                   (overflow ? std::string("an impossible number of") : std::to_string(bytes)) +
                   " bytes but data_offsets span " + std::to_string(en - b));
  t.begin = static_cast<std::size_t>(b);
  t.end = static_cast<std::size_t>(en);
  return t;
}

}  // namespace

SafetensorsHeader parse_safetensors(const unsigned char* data, std::size_t size,
                                    const std::string& file) {
  if (size < 8) fail(file, "shorter than the 8-byte header length (truncated?)");
  uint64_t n = read_u64_le(data);
  if (n > size - 8)
    fail(file, "header length " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  json header;
  try {
    header = json::parse(data + 8, data + 8 + n);
  } catch (const json::exception& e) {
    fail(file, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(file, "header is not a JSON object");

  SafetensorsHeader out;
  out.data_start = static_cast<std::size_t>(8 + n);
  std::size_t data_size = size - out.data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(file, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(file, "__metadata__ value '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(file, it.key(), *it, data_size));
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (std::size_t i = 1; i < out.tensors.size(); ++i) {
    const auto& prev = out.tensors[i - 1];
    const auto& cur = out.tensors[i];
    if (cur.begin < prev.end && cur.end > cur.begin)
      fail(file, "tensors '" + prev.name + "' and '" + cur.name + "' overlap");
  }
  return out;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto f = std::make_shared<SafetensorsFile>();
  f->file_ = MappedFile::open(path);
  f->header_ = parse_safetensors(f->file_->data(), f->file_->size(), path);
  for (std::size_t i = 0; i < f->header_.tensors.size(); ++i)
    f->index_[f->header_.tensors[i].name] = i;
  return f;
}

TensorView SafetensorsFile::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(path() + ": no tensor named '" + name + "'");
  const TensorInfo& t = header_.tensors[it->second];
  TensorView v;
  v.info = &t;
  v.data = file_->data() + header_.data_start + t.begin;
  v.nbytes = t.end - t.begin;
  v.owner = file_;
  return v;
}

Checkpoint Checkpoint::open(const std::string& path) {
  Checkpoint c;
  fs::path p(path);
  fs::path index;
  if (fs::is_directory(p)) {
    if (fs::exists(p / "model.safetensors")) {
      p = p / "model.safetensors";
    } else if (fs::exists(p / "model.safetensors.index.json")) {
      index = p / "model.safetensors.index.json";
    } else {
      throw Error(path + ": no model.safetensors or model.safetensors.index.json in this folder");
    }
  } else if (p.extension() == ".json") {
    index = p;
  }
  if (index.empty()) {
    if (!fs::exists(p)) throw Error(p.string() + ": file not found");
    auto f = SafetensorsFile::open(p.string());
    c.source_ = p.string();
    for (const auto& t : f->tensors()) c.where_[t.name] = p.string();
    c.shards_[p.string()] = f;
    return c;
  }
  c.source_ = index.string();
  std::ifstream in(index);
  if (!in) throw Error(index.string() + ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(index.string() + ": invalid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(index.string() + ": no 'weight_map' object");
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it->is_string())
      throw Error(index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
    auto shard = (index.parent_path() / it->get<std::string>()).string();
    c.where_[it.key()] = shard;
  }
  return c;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& kv : where_) out.push_back(kv.first);
  return out;
}

TensorView Checkpoint::get(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error(source_ + ": no tensor named '" + name + "'");
  auto& shard = shards_[it->second];
  if (!shard) {
    if (!fs::exists(it->second))
      throw Error(source_ + ": shard '" + it->second + "' for tensor '" + name + "' is missing");
    shard = SafetensorsFile::open(it->second);
  }
  if (!shard->contains(name))
    throw Error(source_ + ": index says '" + name + "' is in " + it->second + " but it is not");
  return shard->get(name);
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    auto sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto* t : order) {
    int64_t numel = 1;
    for (auto d : t->shape) numel *= d;
    if (static_cast<std::size_t>(numel) * dtype_size(t->dtype) != t->nbytes)
      throw std::logic_error("write_safetensors: size mismatch for " + t->name);
    header[t->name] = {{"dtype", dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  write_file_atomic(path, [&](std::ostream& out) {
    uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto* t : order)
      out.write(static_cast<const char*>(t->data), static_cast<std::streamsize>(t->nbytes));
  });
}

}  // namespace axl
