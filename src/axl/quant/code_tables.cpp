#include "axl/quant/code_tables.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "axl/core/error.h"

namespace axl::quant {

std::string quant4_type_name(Quant4Type t) { return t == Quant4Type::NF4 ? "nf4" : "fp4"; }

Quant4Type parse_quant4_type(const std::string& s) {
  if (s == "nf4") return Quant4Type::NF4;
  if (s == "fp4") return Quant4Type::FP4;
  throw Error("4-bit quant type '" + s + "' is not supported; use nf4 or fp4");
}

at::Tensor code_table_4bit(Quant4Type t) {
  // NF4: quantiles of N(0, 1) (QLoRA), as bitsandbytes hard-codes them.
  static const double nf4[16] = {-1.0,
                                 -0.6961928009986877,
                                 -0.5250730514526367,
                                 -0.39491748809814453,
                                 -0.28444138169288635,
                                 -0.18477343022823334,
                                 -0.09105003625154495,
                                 0.0,
                                 0.07958029955625534,
                                 0.16093020141124725,
                                 0.24611230194568634,
                                 0.33791524171829224,
                                 0.44070982933044434,
                                 0.5626170039176941,
                                 0.7229568362236023,
                                 1.0};
  // FP4 (1 sign, 2 exponent, 1 mantissa bit, bias 2) in bit-pattern order, then divided by
  // its largest magnitude (12), in float32 as bitsandbytes does.
  static const double fp4[16] = {0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, -0.0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0};
  at::Tensor out = at::empty({16}, at::kFloat);
  float* p = out.data_ptr<float>();
  for (int i = 0; i < 16; ++i)
    p[i] = t == Quant4Type::NF4 ? static_cast<float>(nf4[i]) : static_cast<float>(fp4[i]) / 12.0f;
  return out;
}

at::Tensor dynamic_map_8bit() {
  // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for each decade
  // 1e-6 .. 1, 2^i evenly spaced fraction midpoints of each sign, plus 0 and 1.
  std::vector<float> data;
  for (int i = 0; i < 7; ++i) {
    const int64_t items = (int64_t{1} << i) + 1;
    at::Tensor b = at::linspace(0.1, 1.0, items, at::kFloat);
    at::Tensor means = (b.slice(0, 0, items - 1) + b.slice(0, 1, items)) / 2.0;
    const double scale = std::pow(10.0, static_cast<double>(i - 6));  // Python's 10 ** (i - 6)
    // Python multiplies a float32 tensor by the double scalar: the product is float32.
    at::Tensor pos = means * scale;
    for (int64_t j = 0; j < pos.numel(); ++j) data.push_back(pos[j].item<float>());
    at::Tensor neg = means * (-scale);
    for (int64_t j = 0; j < neg.numel(); ++j) data.push_back(neg[j].item<float>());
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  std::sort(data.begin(), data.end());
  return at::tensor(data, at::kFloat);
}

}  // namespace axl::quant
