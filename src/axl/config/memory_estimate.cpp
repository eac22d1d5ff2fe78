#include "axl/config/memory_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "axl/config/lora_kernel_keys.h"
#include "axl/core/json_file.h"

namespace axl::config {

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

// --- measured on the CPU (bench/memory_prediction.py; torch 2.11's CUDA wheel) ---
// The process before any model: libtorch's libraries (the CUDA wheel's too, even on a CPU
// run), thread pools, our binary and glibc's arenas: `axolotl generate` on the 260K-parameter
// stories model peaks at 478 MiB, `train` of it at 500-530 MiB.
constexpr int64_t kCpuRuntimeBytes = 470 * kMiB;
// A parsed tokenizer holds about this many bytes per byte of its file (vocab and merge maps);
// the tokenized dataset (ids + labels, int64, with the parsed records) per byte of its files.
constexpr double kTokenizerPerFileByte = 6.0;
constexpr double kDatasetPerFileByte = 4.0;

// --- CUDA: not yet measured (the GPU suite checks it) ---
constexpr int64_t kCudaContextBytes = 500 * kMiB;  // CUDA context, cuBLAS workspaces, kernels
constexpr double kCudaAllocatorSlack = 0.10;       // the caching allocator's rounding and split blocks

// bitsandbytes' 4-bit format per quantized parameter: 4 bits, a float32 absmax per block, or
// with double quantisation an 8-bit absmax code plus a float32 scale per 256 blocks
// (0.5165 B/param measured for NF4+DQ at blocksize 64 by bench/quant_memory.cpp, RSS 0.5206).
double four_bit_bytes_per_param(int64_t blocksize, bool double_quant) {
  const double b = static_cast<double>(blocksize);
  return 0.5 + (double_quant ? 1.0 / b + 4.0 / (b * 256.0) : 4.0 / b);
}

int dtype_bytes(const std::string& dtype) { return dtype == "float32" ? 4 : 2; }

// The weights' dtype on `device`: bf16 / fp16 as the config resolves them there (bf16: auto
// is bfloat16 on CUDA, float32 on the CPU); full fine-tuning with fp16 keeps float32 weights.
std::string weights_dtype(const Config& c, MemoryDevice device) {
  const bool cuda = device == MemoryDevice::Cuda;
  const bool bf16 = c.bf16_setting == "true" || (c.bf16_setting == "auto" && cuda);
  if (bf16) return "bfloat16";
  if (c.fp16 && !c.adapter.empty()) return "float16";
  return "float32";
}

bool is_lora_family(const Config& c) { return c.adapter == "lora" || c.adapter == "qlora" || c.adapter == "dora"; }

// Optimizer state bytes per trainable parameter (`param_bytes`: the parameter's own size).
// Adafactor is handled by its caller (its statistics follow the shapes, not the count).
double optimizer_bytes_per_param(const std::string& name, int param_bytes) {
  if (name.find("8bit") != std::string::npos) {
    // bitsandbytes' blockwise 8-bit codes with a float32 absmax per 256 values.
    const double one = 1.0 + 4.0 / 256.0;
    return name.find("lion") != std::string::npos ? one : 2 * one;
  }
  if (name.find("lion") != std::string::npos) return 4;           // one float32 momentum
  if (name.find("32bit") != std::string::npos) return 8;          // paged_adamw_32bit
  if (name == "sgd") return 0;                                     // HF's SGD: no momentum
  return 2.0 * param_bytes;                                        // Adam: exp_avg + exp_avg_sq
}

// Adafactor's factored second moment: a row and a column vector per matrix, the full tensor
// for vectors (float32).
int64_t adafactor_bytes(const Config& c, const Plan& p) {
  int64_t elems = 0;
  if (c.adapter.empty()) {
    for (const auto& l : linear_layers(p.model)) elems += l.in + l.out;
    elems += p.model.vocab_size + p.model.hidden_size;                 // embeddings
    elems += p.model.hidden_size * (2 * p.model.num_layers + 1);       // norms
  } else {
    // LoRA: A [r, in] and B [out, r] per targeted layer: (r + in) + (out + r).
    const int64_t r = std::max<int64_t>(c.lora_r, 1);
    elems = p.params.adapter / r + 2 * r * p.params.targeted_layers;
  }
  return elems * 4;
}

// Activation elements saved for backward per token of one decoder layer, fitted on the 8-layer
// hidden-768 Llama of bench/memory_prediction.py (RoPE and RMSNorm in place, as the trainer
// runs them): with the fused LoRA ops (kernels/fused_ops.h, on by default for lora/qlora)
// about the layer input, q/k/v and the attention output once, and e, g of the MLP (measured
// 7.2K elements per token and layer there, this gives 7.9K); plain autograd (full fine-tuning,
// the LoRA ops off) one more [hidden] tensor (measured 8.7K, this gives 8.7K).
double activation_elems_per_token_layer(const models::ModelConfig& m, bool fused_lora) {
  const double h = static_cast<double>(m.hidden_size), f = static_cast<double>(m.intermediate_size);
  const double nq = static_cast<double>(m.num_heads * m.head_dim), nkv = static_cast<double>(m.num_kv_heads * m.head_dim);
  const double gqa_copies = m.num_kv_heads < m.num_heads ? 2 * nq : 0.0;  // repeat_kv before SDPA
  return (fused_lora ? h : 2 * h) + (nq + 2 * nkv) + nq + gqa_copies + 2 * f;
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
  return buf;
}

}  // namespace

RuntimeFiles runtime_files_for(const Config& cfg) {
  namespace fs = std::filesystem;
  RuntimeFiles r;
  std::error_code ec;
  try {
    const auto j = read_json_file(cfg.model_config_dir.dir + "/config.json");
    const std::string dt = j.value("torch_dtype", j.value("dtype", std::string()));
    r.checkpoint_dtype_bytes = dt == "float32" ? 4 : (dt == "bfloat16" || dt == "float16") ? 2 : 0;
  } catch (const std::exception&) {
    // make_plan reports a bad config.json; an unknown dtype means "as loaded".
  }
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const fs::path p = fs::path(cfg.tokenizer_dir.dir) / name;
    if (fs::is_regular_file(p, ec)) {
      r.tokenizer_bytes = static_cast<int64_t>(fs::file_size(p, ec));
      break;
    }
  }
  for (const auto* list : {&cfg.datasets, &cfg.test_datasets})
    for (const auto& d : *list) {
      std::vector<std::string> files = d.data_files;
      if (files.empty()) files.push_back(d.path);
      for (const auto& f : files) {
        if (fs::is_regular_file(f, ec)) r.dataset_bytes += static_cast<int64_t>(fs::file_size(f, ec));
        else if (fs::is_directory(f, ec))
          for (const auto& e : fs::recursive_directory_iterator(f, ec))
            if (e.is_regular_file(ec)) r.dataset_bytes += static_cast<int64_t>(e.file_size(ec));
      }
    }
  return r;
}

MemoryEstimate estimate_memory(const Config& c, const Plan& p, MemoryDevice device, const RuntimeFiles& files) {
  const models::ModelConfig& m = p.model;
  const bool cuda = device == MemoryDevice::Cuda;
  MemoryEstimate e;
  e.device = device;
  e.dtype = weights_dtype(c, device);
  const int wb = dtype_bytes(e.dtype);
  const bool full = c.adapter.empty();

  // Weights: every linear but the head quantized with load_in_4bit / load_in_8bit.
  int64_t quantizable = 0;
  if (c.load_in_4bit || c.load_in_8bit)
    for (const auto& l : linear_layers(m))
      if (l.name != "lm_head") quantizable += l.in * l.out;
  double quant_bytes = 0;
  if (c.load_in_4bit) {
    const bool dq = c.bnb_config_kwargs.value("bnb_4bit_use_double_quant", true);
    quant_bytes = four_bit_bytes_per_param(64, dq) * static_cast<double>(quantizable);
  } else if (c.load_in_8bit) {
    quant_bytes = 1.0033 * static_cast<double>(quantizable);  // int8 + a float32 scale per row
  }
  e.weights = static_cast<int64_t>(quant_bytes) + (p.params.total - quantizable) * wb;
  if (!cuda) {
    // A frozen checkpoint of the weights' own dtype stays memory-mapped: only the embedding
    // rows the data looks up become resident (a tied head reads them all).
    const bool mapped = !full && (files.checkpoint_dtype_bytes == 0 || files.checkpoint_dtype_bytes == wb);
    const bool embedding_trains = std::find(c.lora_modules_to_save.begin(), c.lora_modules_to_save.end(),
                                            "embed_tokens") != c.lora_modules_to_save.end();
    if (mapped && !m.tie_word_embeddings && !embedding_trains) e.weights -= m.vocab_size * m.hidden_size * wb;
    // Quantizing reads every dense linear (mapped pages, or the loader's converted copies):
    // they count in the peak, and so does the dequantisation workspace of the largest one.
    if (quantizable > 0) {
      const int ckpt = files.checkpoint_dtype_bytes > 0 ? files.checkpoint_dtype_bytes : wb;
      int64_t largest = 0;
      for (const auto& l : linear_layers(m))
        if (l.name != "lm_head") largest = std::max(largest, l.in * l.out);
      e.weights += quantizable * ckpt + largest * wb;
    }
  }

  // Trainable tensors: adapters float32 (PEFT's autocast_adapter_dtype), full fine-tuning in
  // the weights' dtype.
  e.adapter_uncounted = !full && !is_lora_family(c);
  const int64_t trainable = full ? p.params.total : p.params.trainable;
  const int tb = full ? wb : 4;
  if (!full) e.adapter = p.params.trainable * 4;
  e.gradients = trainable * tb;
  e.optimizer_states = c.optimizer == "adafactor"
                           ? adafactor_bytes(c, p)
                           : static_cast<int64_t>(optimizer_bytes_per_param(c.optimizer, tb) * static_cast<double>(trainable));

  // Activations of one micro-batch: every layer's saved tensors, or with gradient
  // checkpointing each layer's input plus one layer recomputed during backward.
  const int ab = wb;  // activations follow the weights' dtype (autocast's on CUDA)
  const double tokens = static_cast<double>(c.micro_batch_size * c.sequence_len);
  const double per_layer = activation_elems_per_token_layer(m, lora_kernels(c).mlp) * tokens * ab;
  const double layers = static_cast<double>(m.num_layers);
  // Padded batches give SDPA a float [B, 1, T, T] mask per layer; eager attention keeps
  // [B, heads, T, T] scores and probabilities.
  const double square = static_cast<double>(c.micro_batch_size) * static_cast<double>(c.sequence_len) *
                        static_cast<double>(c.sequence_len) * 4;
  double attn_scores = 0;
  if (c.attention_path == "eager" && !c.sample_packing) attn_scores = 3.0 * static_cast<double>(m.num_heads) * square;
  else if (!c.sample_packing && (c.micro_batch_size > 1 || c.pad_to_sequence_len)) attn_scores = square;
  const double one_layer = per_layer + attn_scores;
  const double residual = tokens * static_cast<double>(m.hidden_size) * ab;
  e.activations = static_cast<int64_t>(c.gradient_checkpointing ? layers * residual + one_layer : layers * one_layer);
  e.activations += static_cast<int64_t>(2 * residual);  // the embeddings' output and the final norm

  // The loss: the chunked head (kernels/linear_cross_entropy) keeps one chunk of float32
  // logits (about 16M values; their softmax gradient is made in place) and the hidden states'
  // gradient; on CUDA in half precision also the chunk's GEMM output before its float32 copy.
  // Full logits (three float32 copies) when the head cannot take that path (float16).
  const double v = static_cast<double>(m.vocab_size), rows = tokens;
  const bool chunked = e.dtype != "float16";
  const double chunk_value_bytes = cuda && wb < 4 ? 4 + wb : 4;
  const double logits =
      chunked ? std::min(rows, std::max(1.0, 16777216.0 / v)) * v * chunk_value_bytes : rows * v * 4 * 3;
  e.loss = static_cast<int64_t>(logits + 2 * rows * static_cast<double>(m.hidden_size) * 4);
  if (full) e.loss += m.vocab_size * m.hidden_size * 4;  // the head's float32 gradient sum

  const int64_t dynamic = e.activations + e.loss + e.gradients;
  if (cuda) {
    e.runtime = kCudaContextBytes;
    e.slack = static_cast<int64_t>(kCudaAllocatorSlack * static_cast<double>(dynamic + e.optimizer_states));
  } else {
    e.runtime = kCpuRuntimeBytes + static_cast<int64_t>(kTokenizerPerFileByte * static_cast<double>(files.tokenizer_bytes) +
                                                        kDatasetPerFileByte * static_cast<double>(files.dataset_bytes));
    // glibc's heap slack is inside the fitted activation and runtime figures.
  }
  return e;
}

std::string format_memory(const MemoryEstimate& cpu, const MemoryEstimate& cuda) {
  std::ostringstream os;
  auto row = [&](const char* name, int64_t a, int64_t b) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-18s %14s %14s\n", name, mib(a).c_str(), mib(b).c_str());
    os << buf;
  };
  os << "memory (predicted peak; cpu: resident set, " << cpu.dtype << "; cuda: device memory, " << cuda.dtype
     << ", unverified until the GPU suite measures it):\n";
  char head[160];
  std::snprintf(head, sizeof head, "  %-18s %14s %14s\n", "", "cpu", "cuda");
  os << head;
  row("runtime", cpu.runtime, cuda.runtime);
  row("weights", cpu.weights, cuda.weights);
  row("adapter", cpu.adapter, cuda.adapter);
  row("gradients", cpu.gradients, cuda.gradients);
  row("optimizer states", cpu.optimizer_states, cuda.optimizer_states);
  row("activations", cpu.activations, cuda.activations);
  row("loss", cpu.loss, cuda.loss);
  row("allocator slack", cpu.slack, cuda.slack);
  row("total", cpu.total(), cuda.total());
  if (cpu.adapter_uncounted)
    os << "  (the adapter's own tensors are counted when it attaches; train prints them)\n";
  return os.str();
}

}  // namespace axl::config
