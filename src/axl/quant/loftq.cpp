#include "axl/quant/loftq.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>

#include "axl/core/error.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/int8_rowwise.h"
#include "axl/quant/quantized_linear.h"

namespace axl::quant {

namespace {

// PEFT's quantiser with bitsandbytes: Params4bit(compress_statistics=False, quant_type="nf4")
// (blocksize 64) or Int8Params, dequantised back to float32. Int8Params quantizes a float16
// copy of the weight (as load_in_8bit does), so the row scales are float16 absmaxes.
at::Tensor quantize_dequantize(const at::Tensor& w, int bits) {
  if (bits == 4) return dequantize_4bit(quantize_4bit(w, Quant4Type::NF4, 64, /*double_quant=*/false));
  return dequantize_int8_rowwise(quantize_int8_rowwise(w.to(at::kHalf).to(at::kFloat)));
}

}  // namespace

LoftqResult loftq_init(const at::Tensor& weight, const LoftqOptions& o) {
  if (o.bits != 4 && o.bits != 8)
    throw Error("LoftQ: loftq_bits must be 4 (NF4) or 8 (int8), got " + std::to_string(o.bits));
  if (o.iterations < 1) throw Error("LoftQ: loftq_iter must be at least 1, got " + std::to_string(o.iterations));
  if (o.rank < 1) throw Error("LoftQ: the LoRA rank must be positive");
  if (weight.dim() != 2) throw Error("LoftQ: needs a 2-D weight");
  at::NoGradGuard no_grad;
  const at::Tensor w = weight.detach().to(at::kCPU, at::kFloat).contiguous();
  const int64_t out = w.size(0), in = w.size(1), k = std::min({o.rank, out, in});
  at::Tensor res = w, deq, left, right;
  for (int i = 0; i < o.iterations; ++i) {
    deq = quantize_dequantize(res, o.bits);
    at::Tensor u, s, vh;
    std::tie(u, s, vh) = at::linalg_svd(w - deq, /*full_matrices=*/false);
    const at::Tensor root = s.narrow(0, 0, k).sqrt();
    left = u.narrow(1, 0, k) * root.unsqueeze(0);   // U sqrt(S): [out, k]
    right = root.unsqueeze(1) * vh.narrow(0, 0, k);  // sqrt(S) V^T: [k, in]
    if (i + 1 < o.iterations) res = w - at::mm(left, right);
  }
  LoftqResult r;
  r.dequantized = deq.to(weight.device(), weight.scalar_type());
  r.lora_a = at::zeros({o.rank, in}, at::kFloat);
  r.lora_b = at::zeros({out, o.rank}, at::kFloat);
  r.lora_a.narrow(0, 0, k).copy_(right);
  r.lora_b.narrow(1, 0, k).copy_(left);
  return r;
}

LoftqResult apply_loftq(models::LinearSlot& slot, const LoftqOptions& o) {
  LoftqResult r = loftq_init(slot.base->dense_weight(), o);
  at::NoGradGuard no_grad;
  if (auto b4 = std::dynamic_pointer_cast<Linear4bit>(slot.base)) {
    const Quantized4bit& old = b4->q;
    Quantized4bit q = quantize_4bit(r.dequantized.to(at::kCPU), old.type, old.blocksize, old.nested);
    q.dtype = old.dtype;
    move_to(q, old.packed.device());
    slot.base = std::make_shared<Linear4bit>(std::move(q), b4->compute_dtype);
  } else if (auto b8 = std::dynamic_pointer_cast<Linear8bit>(slot.base)) {
    Int8Rowwise q = quantize_int8_rowwise(r.dequantized.to(at::kCPU, at::kFloat));
    q.codes = q.codes.to(b8->q.codes.device());
    q.row_absmax = q.row_absmax.to(b8->q.codes.device());
    slot.base = std::make_shared<Linear8bit>(std::move(q), b8->compute_dtype);
  } else {
    slot.base = std::make_shared<models::DenseBase>(r.dequantized);
  }
  return r;
}

}  // namespace axl::quant
