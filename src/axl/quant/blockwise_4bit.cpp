#include "axl/quant/blockwise_4bit.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "axl/core/error.h"
#include "axl/quant/blockwise_8bit.h"

namespace axl::quant {

namespace {

void check_blocksize(int64_t bs) {
  for (int64_t ok = 32; ok <= 4096; ok *= 2)
    if (bs == ok) return;
  throw Error("4-bit blocksize " + std::to_string(bs) + " is not supported; use 32, 64, 128, 256, 512, 1024, 2048 or 4096");
}

// Midpoints between neighbouring table values in sorted order, and the code of each sorted
// slot (NF4 is sorted already; FP4's bit-pattern order needs the map back).
struct Bounds {
  at::Tensor midpoints;
  at::Tensor order;
};

Bounds bounds_for(Quant4Type t) {
  at::Tensor code = code_table_4bit(t);
  at::Tensor order = at::argsort(code);
  at::Tensor sorted = code.index_select(0, order);
  return {(sorted.slice(0, 0, 15) + sorted.slice(0, 1, 16)) / 2, order};
}

}  // namespace

int64_t Quantized4bit::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

at::Tensor Quantized4bit::block_scales() const {
  if (!nested) return absmax.to(at::kFloat);
  return dequantize_blockwise_8bit(absmax, nested_absmax, nested_code, nested_blocksize) + offset;
}

int64_t Quantized4bit::storage_bytes() const {
  int64_t b = packed.numel() + absmax.numel() * absmax.element_size() + code.numel() * 4;
  if (nested) b += nested_absmax.numel() * 4 + nested_code.numel() * 4 + 4;
  return b;
}

Quantized4bit quantize_4bit(const at::Tensor& w, Quant4Type type, int64_t blocksize, bool double_quant) {
  check_blocksize(blocksize);
  const auto st = w.scalar_type();
  if (st != at::kFloat && st != at::kBFloat16 && st != at::kHalf)
    throw Error(std::string("4-bit quantisation needs a float32, bfloat16 or float16 tensor, got ") +
                c10::toString(st));
  Quantized4bit q;
  q.type = type;
  q.blocksize = blocksize;
  q.shape = w.sizes().vec();
  q.dtype = st;
  q.code = code_table_4bit(type);

  // bitsandbytes' CPU path (backends/default quantize_4bit): scale by the reciprocal of the
  // block absmax, clamp to [-1, 1], bucket against the table midpoints.
  at::Tensor flat = w.detach().to(at::kCPU).reshape({-1}).to(at::kFloat);
  const int64_t n = flat.numel();
  const int64_t rem = n % blocksize, full = n - rem;
  at::Tensor whole = flat.slice(0, 0, full).view({full / blocksize, blocksize});
  at::Tensor absmax = std::get<0>(whole.abs().max(1));
  at::Tensor scaled = at::clamp(whole * at::reciprocal(absmax.clamp_min(1e-38)).view({-1, 1}), -1, 1).reshape({-1});
  if (rem) {
    at::Tensor tail = flat.slice(0, full, n);
    at::Tensor am = tail.abs().max().clamp_min(1e-38);
    absmax = at::cat({absmax, am.unsqueeze(0)});
    scaled = at::cat({scaled, at::clamp(tail / am, -1, 1)});
  }
  if (scaled.numel() % 2) scaled = at::constant_pad_nd(scaled, {0, 1});
  Bounds bounds = bounds_for(type);
  at::Tensor idx = at::bucketize(scaled, bounds.midpoints, /*out_int32=*/true);
  if (type != Quant4Type::NF4) idx = bounds.order.index_select(0, idx.to(at::kLong));
  at::Tensor q8 = idx.to(at::kByte);
  q.packed = (q8.slice(0, 0, q8.numel(), 2).bitwise_left_shift(4) | q8.slice(0, 1, q8.numel(), 2)).unsqueeze(1).contiguous();

  if (double_quant) {
    at::Tensor offset = absmax.mean();
    Blockwise8bit nested = quantize_blockwise_8bit(absmax - offset, 256);
    q.nested = true;
    q.offset = offset.item<float>();
    q.absmax = nested.codes;
    q.nested_absmax = nested.absmax;
    q.nested_code = nested.code;
    q.nested_blocksize = 256;
  } else {
    q.absmax = absmax.contiguous();
  }
  return q;
}

namespace {

// out[i] = T(code[c_i] * scale[i / blocksize]) with c_i the i-th nibble (high nibble first):
// the reference's float32 product, rounded once to T by the same conversion ATen's copy uses.
template <typename T>
void dequantize_4bit_cpu(const uint8_t* bytes, const float* code, const float* scales, int64_t n, int64_t blocksize,
                         T* out) {
  const int64_t blocks = (n + blocksize - 1) / blocksize;
  at::parallel_for(0, blocks, std::max<int64_t>(1, 16384 / blocksize), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T table[16];
      for (int c = 0; c < 16; ++c) table[c] = static_cast<T>(code[c] * scales[b]);
      const int64_t end = std::min(n, (b + 1) * blocksize);
      for (int64_t i = b * blocksize; i < end; ++i) {
        const uint8_t byte = bytes[i >> 1];
        out[i] = table[(i & 1) ? (byte & 15) : (byte >> 4)];
      }
    }
  });
}

}  // namespace

void dequantize_4bit_into(const Quantized4bit& q, at::Tensor& out) {
  const bool cpu = out.device().is_cpu() && q.packed.device().is_cpu() && out.is_contiguous() &&
                   (q.packed.scalar_type() == at::kByte || q.packed.element_size() == 1) && q.packed.is_contiguous();
  if (!cpu || out.numel() != q.numel()) return dequantize_4bit_reference_into(q, out);
  const at::Tensor code = q.code.to(at::kFloat).contiguous();
  const at::Tensor scales = q.block_scales().to(at::kFloat).contiguous();
  const auto* bytes = static_cast<const uint8_t*>(q.packed.data_ptr());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, out.scalar_type(), "dequantize_4bit_cpu", [&] {
    dequantize_4bit_cpu<scalar_t>(bytes, code.data_ptr<float>(), scales.data_ptr<float>(), q.numel(), q.blocksize,
                                  out.data_ptr<scalar_t>());
  });
}

void dequantize_4bit_reference_into(const Quantized4bit& q, at::Tensor& out) {
  const int64_t n = q.numel();
  at::Tensor bytes = q.packed.reshape({-1});
  if (bytes.scalar_type() != at::kByte) bytes = bytes.view(at::kByte);
  // Both nibbles side by side per byte: [bytes, 2] flattened is element order.
  at::Tensor codes = at::stack({bytes.bitwise_right_shift(4), bytes.bitwise_and(15)}, 1).reshape({-1}).slice(0, 0, n);
  at::Tensor code = q.code.to(bytes.device(), at::kFloat);
  at::Tensor values = code.index_select(0, codes.to(at::kLong));
  at::Tensor scales = q.block_scales().to(bytes.device());
  at::Tensor flat_out = out.view({-1});
  if (n % q.blocksize == 0) {
    at::Tensor prod = values.view({-1, q.blocksize}) * scales.view({-1, 1});
    flat_out.copy_(prod.view({-1}));
  } else {
    flat_out.copy_(values * scales.repeat_interleave(q.blocksize).slice(0, 0, n));
  }
}

at::Tensor dequantize_4bit(const Quantized4bit& q, at::ScalarType dtype) {
  at::Tensor out = at::empty(q.shape, q.packed.options().dtype(dtype));
  dequantize_4bit_into(q, out);
  return out;
}

void move_to(Quantized4bit& q, at::Device device) {
  q.packed = q.packed.to(device);
  q.absmax = q.absmax.to(device);
  q.code = q.code.to(device);
  if (q.nested) {
    q.nested_absmax = q.nested_absmax.to(device);
    q.nested_code = q.nested_code.to(device);
  }
}

void validate_quantized_4bit(const Quantized4bit& q, const std::string& what) {
  check_blocksize(q.blocksize);
  const int64_t n = q.numel();
  auto bad = [&](const std::string& msg) { throw Error(what + ": " + msg); };
  if (q.packed.numel() * (q.packed.element_size()) != (n + 1) / 2)
    bad("holds " + std::to_string(q.packed.numel() * q.packed.element_size()) + " bytes of 4-bit codes, but shape needs " +
        std::to_string((n + 1) / 2));
  if (q.absmax.numel() != q.blocks())
    bad("absmax has " + std::to_string(q.absmax.numel()) + " entries, expected " + std::to_string(q.blocks()) +
        " (one per block of " + std::to_string(q.blocksize) + ")");
  if (q.code.numel() != 16) bad("quant_map must hold 16 values");
  if (q.nested) {
    if (q.absmax.scalar_type() != at::kByte) bad("double-quantised absmax must be uint8");
    if (q.nested_code.numel() != 256) bad("nested_quant_map must hold 256 values");
    if (q.nested_blocksize <= 0 || q.nested_absmax.numel() != (q.blocks() + q.nested_blocksize - 1) / q.nested_blocksize)
      bad("nested_absmax has " + std::to_string(q.nested_absmax.numel()) + " entries for " + std::to_string(q.blocks()) +
          " blocks in groups of " + std::to_string(q.nested_blocksize));
  } else if (q.absmax.scalar_type() != at::kFloat) {
    bad("absmax must be float32");
  }
}

}  // namespace axl::quant
