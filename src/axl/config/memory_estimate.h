#pragma once
// The peak memory a training config will need, per component, on the CPU (peak resident set,
// what /proc's VmHWM reports) and on CUDA (device memory), from the config and config.json's
// shapes alone (no libtorch: `axolotl validate` prints it instantly). The CPU constants were
// measured on this codebase (bench/memory_prediction.py, bench/results/memory-prediction-cpu.jsonl);
// the CUDA figures use the same tensor arithmetic in the compute dtype and stay unverified
// until the GPU suite measures them.
#include <cstdint>
#include <string>
#include <vector>

#include "axl/config/config.h"
#include "axl/config/plan.h"

namespace axl::config {

enum class MemoryDevice { Cpu, Cuda };

// Sizes of the files that the run keeps in memory besides the model (their bytes on disk).
struct RuntimeFiles {
  int64_t tokenizer_bytes = 0;  // tokenizer.json / tokenizer.model
  int64_t dataset_bytes = 0;    // the datasets' files
  int checkpoint_dtype_bytes = 0;  // config.json's torch_dtype (4 float32, 2 half); 0 unknown
};
RuntimeFiles runtime_files_for(const Config& cfg);

struct MemoryEstimate {
  MemoryDevice device = MemoryDevice::Cpu;
  std::string dtype;             // the weights' / activations' dtype on that device
  int64_t runtime = 0;           // CPU: libtorch + our binary + tokenizer + dataset; CUDA: context
  int64_t weights = 0;           // base model (quantized linears at their format's bytes)
  int64_t adapter = 0;           // trainable adapter tensors (float32, as PEFT keeps them)
  int64_t gradients = 0;         // of every trainable tensor
  int64_t optimizer_states = 0;  // moments / codes / factored statistics
  int64_t activations = 0;       // saved for backward (one micro-batch)
  int64_t loss = 0;              // the head and loss working set
  int64_t slack = 0;             // allocator slack (freed blocks the heap or cache keeps)
  bool adapter_uncounted = false;  // a PEFT method whose size is known only once it attaches
  int64_t total() const {
    return runtime + weights + adapter + gradients + optimizer_states + activations + loss + slack;
  }
};

MemoryEstimate estimate_memory(const Config& cfg, const Plan& plan, MemoryDevice device, const RuntimeFiles& files);

// The plan's memory lines: one row per component with the cpu and cuda figures, then totals.
std::string format_memory(const MemoryEstimate& cpu, const MemoryEstimate& cuda);

}  // namespace axl::config
