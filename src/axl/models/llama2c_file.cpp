#include "axl/models/llama2c_file.h"

#include <cstring>
#include <fstream>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/mapped_file.h"

namespace axl::models {

namespace {

constexpr uint32_t kMagic = 0x616b3432;  // "ak42"

struct Cursor {
  const MappedFile& file;
  std::size_t pos = 0;
  void need(std::size_t n, const std::string& what) const {
    if (pos + n > file.size())
      throw Error(file.path() + ": truncated llama2.c checkpoint: " + what + " needs " +
                  std::to_string(n) + " bytes at offset " + std::to_string(pos) + ", file has " +
                  std::to_string(file.size()));
  }
  int32_t i32(const char* what) {
    need(4, what);
    int32_t v;
    std::memcpy(&v, file.data() + pos, 4);
    pos += 4;
    return v;
  }
  Llama2cTensor floats(const std::string& what, std::vector<int64_t> shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    need(n * 4, what);
    Llama2cTensor t;
    t.shape = std::move(shape);
    t.data.resize(n);
    std::memcpy(t.data.data(), file.data() + pos, n * 4);
    pos += n * 4;
    return t;
  }
};

void check_config(const Llama2cConfig& c, const std::string& path) {
  auto bad = [&](const std::string& why) { throw Error(path + ": not a llama2.c checkpoint (" + why + ")"); };
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 ||
      c.vocab_size <= 0 || c.seq_len <= 0)
    bad("header sizes must be positive");
  if (c.dim > 65536 || c.hidden_dim > 262144 || c.n_layers > 1024 || c.vocab_size > 4000000 ||
      c.seq_len > 1 << 20)
    bad("header sizes are implausibly large");
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0)
    bad("dim must divide by n_heads and n_heads by n_kv_heads");
}

}  // namespace

Llama2cCheckpoint read_llama2c(const std::string& path) {
  auto file = MappedFile::open(path);
  Cursor cur{*file};
  Llama2cCheckpoint ck;
  Llama2cConfig& c = ck.config;
  cur.need(4, "header");
  uint32_t magic;
  std::memcpy(&magic, file->data(), 4);
  if (magic == kMagic) {
    cur.pos = 4;
    c.version = cur.i32("version");
    if (c.version != 1)
      throw Error(path + ": llama2.c export version " + std::to_string(c.version) +
                  " is not supported (only fp32 versions 0 and 1)");
    c.dim = cur.i32("dim"); c.hidden_dim = cur.i32("hidden_dim"); c.n_layers = cur.i32("n_layers");
    c.n_heads = cur.i32("n_heads"); c.n_kv_heads = cur.i32("n_kv_heads");
    c.vocab_size = cur.i32("vocab_size"); c.seq_len = cur.i32("seq_len");
    cur.need(1, "shared_classifier");
    c.shared_classifier = file->data()[cur.pos] != 0;
    cur.pos = 256;
  } else {
    c.dim = cur.i32("dim"); c.hidden_dim = cur.i32("hidden_dim"); c.n_layers = cur.i32("n_layers");
    c.n_heads = cur.i32("n_heads"); c.n_kv_heads = cur.i32("n_kv_heads");
    c.vocab_size = cur.i32("vocab_size"); c.seq_len = cur.i32("seq_len");
    c.shared_classifier = c.vocab_size > 0;
    if (c.vocab_size < 0) c.vocab_size = -c.vocab_size;
  }
  check_config(c, path);
  const int64_t L = c.n_layers, D = c.dim, H = c.hidden_dim, V = c.vocab_size, KV = c.kv_dim();
  auto& t = ck.tensors;
  if (c.version == 0) {
    t["tok_embeddings"] = cur.floats("tok_embeddings", {V, D});
    t["attention_norm"] = cur.floats("attention_norm", {L, D});
    t["wq"] = cur.floats("wq", {L, D, D});
    t["wk"] = cur.floats("wk", {L, KV, D});
    t["wv"] = cur.floats("wv", {L, KV, D});
    t["wo"] = cur.floats("wo", {L, D, D});
    t["ffn_norm"] = cur.floats("ffn_norm", {L, D});
    t["w1"] = cur.floats("w1", {L, H, D});
    t["w2"] = cur.floats("w2", {L, D, H});
    t["w3"] = cur.floats("w3", {L, H, D});
    t["norm"] = cur.floats("norm", {D});
    const int64_t half = c.head_size() / 2;
    cur.floats("freq_cis_real", {c.seq_len, half});  // run.c skips both tables too
    cur.floats("freq_cis_imag", {c.seq_len, half});
  } else {
    t["attention_norm"] = cur.floats("attention_norm", {L, D});
    t["ffn_norm"] = cur.floats("ffn_norm", {L, D});
    t["norm"] = cur.floats("norm", {D});
    t["tok_embeddings"] = cur.floats("tok_embeddings", {V, D});
    t["wq"] = cur.floats("wq", {L, D, D});
    t["wk"] = cur.floats("wk", {L, KV, D});
    t["wv"] = cur.floats("wv", {L, KV, D});
    t["wo"] = cur.floats("wo", {L, D, D});
    t["w1"] = cur.floats("w1", {L, H, D});
    t["w2"] = cur.floats("w2", {L, D, H});
    t["w3"] = cur.floats("w3", {L, H, D});
  }
  if (!c.shared_classifier) t["wcls"] = cur.floats("wcls", {V, D});
  if (cur.pos != file->size())
    throw Error(path + ": " + std::to_string(file->size() - cur.pos) +
                " unexpected bytes after the weights (wrong header?)");
  return ck;
}

void write_llama2c_v1(const std::string& path, const Llama2cCheckpoint& ck) {
  const Llama2cConfig& c = ck.config;
  write_file_atomic(path, [&](std::ostream& out) {
    unsigned char header[256] = {0};
    uint32_t magic = kMagic;
    int32_t fields[8] = {1, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len};
    std::memcpy(header, &magic, 4);
    std::memcpy(header + 4, fields, sizeof(fields));
    header[36] = c.shared_classifier ? 1 : 0;
    out.write(reinterpret_cast<const char*>(header), 256);
    for (const char* name : {"attention_norm", "ffn_norm", "norm", "tok_embeddings", "wq", "wk",
                             "wv", "wo", "w1", "w2", "w3", "wcls"}) {
      auto it = ck.tensors.find(name);
      if (it == ck.tensors.end()) continue;
      out.write(reinterpret_cast<const char*>(it->second.data.data()),
                static_cast<std::streamsize>(it->second.data.size() * 4));
    }
  });
}

}  // namespace axl::models
