#pragma once
// QuantizedLinear: a frozen 4-bit (NF4/FP4) or 8-bit (LLM.int8 row-wise) base for a
// LinearSlot; adapters stack on top unchanged. The forward dequantises the weight into a
// workspace shared by every quantized slot on the device, multiplies, and drops it; the
// backward dequantises again for the input gradient, so no dense weight outlives a call.
// The workspace is touched only inside QuantizedMatmul's forward/backward and is never
// handed to an op that saves it for backward.
#include <ATen/ATen.h>

#include <memory>

#include "axl/models/linear_slot.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/int8_rowwise.h"

namespace axl::quant {

class QuantizedBase : public models::SlotBase {
 public:
  // Dequantised weight in `out` (numel out*in, out's dtype and device).
  virtual void dequantize_into(at::Tensor& out) const = 0;
  virtual int64_t storage_bytes() const = 0;
  virtual at::Device device() const = 0;  // where the quantized state lives
  at::Tensor forward(const at::Tensor& x) const override;
  // A fresh dense copy in the compute dtype (merges, exports).
  at::Tensor dense_weight() const override;
  at::ScalarType compute_dtype = at::kFloat;
};

class Linear4bit : public QuantizedBase {
 public:
  Linear4bit(Quantized4bit q, at::ScalarType compute_dtype);
  void dequantize_into(at::Tensor& out) const override;
  int64_t in_features() const override { return q.shape[1]; }
  int64_t out_features() const override { return q.shape[0]; }
  int64_t storage_bytes() const override { return q.storage_bytes(); }
  at::Device device() const override { return q.packed.device(); }
  Quantized4bit q;
};

class Linear8bit : public QuantizedBase {
 public:
  Linear8bit(Int8Rowwise q, at::ScalarType compute_dtype);
  void dequantize_into(at::Tensor& out) const override;
  int64_t in_features() const override { return q.codes.size(1); }
  int64_t out_features() const override { return q.codes.size(0); }
  int64_t storage_bytes() const override { return q.storage_bytes(); }
  at::Device device() const override { return q.codes.device(); }
  Int8Rowwise q;
};

// The shared dequantisation workspace for (device, dtype), grown as needed: a view of the
// first `numel` elements shaped [out, in]. Exposed for tests (it must stay unshared).
at::Tensor dequant_workspace(int64_t out, int64_t in, at::ScalarType dtype, at::Device device);
void release_dequant_workspaces();

}  // namespace axl::quant
