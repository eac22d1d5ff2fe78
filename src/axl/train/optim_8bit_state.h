#pragma once
// Blockwise 8-bit optimizer state as bitsandbytes stores it: every block of 256 values keeps
// its absolute maximum (float32) and each value one byte, the index of the nearest entry of
// the "dynamic" map (signed, for first moments) or the "udynamic" map (unsigned, for second
// moments) after dividing by the block's absmax. ATen ops on any device, plain loops on CPU.
// Codes are the nearest map entry (ties to the lower one); bitsandbytes' CPU quantiser
// (an approximate bucketed binary search) picks the farther neighbour for ~1% of values.
#include <ATen/ATen.h>

namespace axl::train {

constexpr int64_t kStateBlockSize = 256;
// bitsandbytes keeps fp32 states for tensors with fewer elements than this (min_8bit_size).
constexpr int64_t kMin8bitStateSize = 4096;

// bitsandbytes.functional.create_dynamic_map(signed) (7 exponent bits, 8 total): 256 sorted
// float32 values on `device`, computed once per device.
at::Tensor dynamic_map(bool is_signed, at::Device device);

int64_t state_blocks(int64_t numel);

// A blockwise-quantised state: `codes` (uint8, the tensor's shape) + `absmax` (float32,
// one per block).
struct BlockwiseState {
  at::Tensor codes, absmax;
};

// All-zero codes and absmax, as bitsandbytes initialises them.
BlockwiseState zero_blockwise_state(const at::Tensor& like);
// Float32 values of `state` (shape of the codes).
at::Tensor dequantize_blockwise(const BlockwiseState& state, const at::Tensor& map);
// Re-quantises `values` (float32) into `state` in place: absmax per block, then the nearest
// map entry (ties to the lower index); a block of zeros gets absmax 0 and code 0.
void quantize_blockwise_into(const at::Tensor& values, const at::Tensor& map, BlockwiseState& state);

// An exact nearest-code search over one map (256 sorted floats) for the CPU loops: buckets of
// the float's top bits point at the first candidate entry, and a fixed number of branch-free
// steps (the most entries any bucket holds) finds the value's place.
struct CodeSearch {
  static constexpr int kBucketBits = 14;
  static constexpr uint32_t kBuckets = 1u << kBucketBits;
  explicit CodeSearch(const float* map);
  float entries[256 + 16];  // the map, then +inf sentinels for the fixed-step walk
  int steps = 0;
  uint16_t start[kBuckets + 1];
};

// One block on CPU: writes the `count` codes of `values` (float32) and returns the block's
// absmax; what quantize_blockwise_into does per block (also used by the fused 8-bit step).
float quantize_block_cpu(const float* values, int64_t count, const CodeSearch& search, uint8_t* codes);

// The same two in plain ATen ops: what runs on CUDA (CPU tensors take plain loops that give
// the same bytes); public so the CPU tests check one against the other.
at::Tensor dequantize_blockwise_aten(const BlockwiseState& state, const at::Tensor& map);
void quantize_blockwise_into_aten(const at::Tensor& values, const at::Tensor& map, BlockwiseState& state);

}  // namespace axl::train
