#include "axl/quant/blockwise_8bit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "axl/quant/code_tables.h"

namespace axl::quant {

Blockwise8bit quantize_blockwise_8bit(const at::Tensor& a_in, int64_t blocksize) {
  at::Tensor a = a_in.to(at::kFloat).contiguous();
  const int64_t n = a.numel();
  const int64_t blocks = (n + blocksize - 1) / blocksize;
  Blockwise8bit out;
  out.blocksize = blocksize;
  out.code = dynamic_map_8bit();
  out.codes = at::empty(a.sizes(), at::kByte);
  out.absmax = at::empty({blocks}, at::kFloat);
  // bitsandbytes' CPU search runs on a copy whose first entry is -1 (the map's -0.993 would
  // leave values in [-1, -0.993) outside the search range); the saved map keeps -0.993.
  std::vector<float> search(out.code.data_ptr<float>(), out.code.data_ptr<float>() + 256);
  search[0] = -1.0f;
  const float* src = a.data_ptr<float>();
  uint8_t* dst = out.codes.data_ptr<uint8_t>();
  float* absmax = out.absmax.data_ptr<float>();
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * blocksize, end = std::min(n, begin + blocksize);
    float m = 0.0f;
    for (int64_t i = begin; i < end; ++i) m = std::fmax(m, std::fabs(src[i]));
    absmax[b] = m;
    for (int64_t i = begin; i < end; ++i) {
      if (m == 0.0f) {  // an all-zero block: bitsandbytes' 0/0 lands on code 0; the scale 0 decodes it to 0
        dst[i] = 0;
        continue;
      }
      const float x = src[i] / m;
      // The code to the left of x, then the nearer of it and its right neighbour (ties left).
      // bitsandbytes' CPU search (BinSearch's Direct2 lookup) occasionally lands one code off
      // and then keeps the second-nearest code; here it is always the nearest.
      int64_t idx = std::upper_bound(search.begin(), search.end(), x) - search.begin() - 1;
      idx = std::clamp<int64_t>(idx, 0, 255);
      if (idx < 255) {
        const float left = std::fabs(x - search[static_cast<std::size_t>(idx)]);
        const float right = std::fabs(x - search[static_cast<std::size_t>(idx + 1)]);
        if (right < left) ++idx;
      }
      dst[i] = static_cast<uint8_t>(idx);
    }
  }
  return out;
}

at::Tensor dequantize_blockwise_8bit(const at::Tensor& codes, const at::Tensor& absmax, const at::Tensor& code,
                                     int64_t blocksize) {
  const int64_t n = codes.numel();
  at::Tensor values = code.to(at::kFloat).index_select(0, codes.reshape(-1).to(at::kLong));
  at::Tensor scales = absmax.to(at::kFloat).repeat_interleave(blocksize).slice(0, 0, n);
  return values * scales;
}

}  // namespace axl::quant
