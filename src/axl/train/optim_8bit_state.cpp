#include "axl/train/optim_8bit_state.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

namespace axl::train {

namespace {

// The same ATen ops create_dynamic_map runs (linspace and products in float32), so the map
// is bit-identical to bitsandbytes'.
at::Tensor make_dynamic_map(bool is_signed) {
  const int max_exponent_bits = 7, total_bits = 8, non_sign_bits = total_bits - 1;
  std::vector<at::Tensor> parts;
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  for (int i = 0; i < max_exponent_bits; ++i) {
    const int64_t fraction_items = is_signed ? (int64_t{1} << (i + non_sign_bits - max_exponent_bits)) + 1
                                             : (int64_t{1} << (i + non_sign_bits - max_exponent_bits + 1)) + 1;
    at::Tensor boundaries = at::linspace(0.1, 1, fraction_items, f32);
    at::Tensor means = (boundaries.slice(0, 0, -1) + boundaries.slice(0, 1)) / 2.0;
    const double scale = std::pow(10.0, -(max_exponent_bits - 1) + i);
    parts.push_back(means * scale);
    if (is_signed) parts.push_back(means * (-scale));
  }
  // additional_items = 2**(non_sign_bits - max_exponent_bits) - 1 = 0 for the 7/8 map.
  parts.push_back(at::zeros({1}, f32));
  parts.push_back(at::ones({1}, f32));
  at::Tensor data = at::cat(parts);
  TORCH_CHECK(data.numel() == 256, "dynamic map must have 256 entries");
  return std::get<0>(data.sort());
}

}  // namespace

at::Tensor dynamic_map(bool is_signed, at::Device device) {
  static std::mutex mu;
  static std::map<std::pair<bool, std::string>, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(is_signed, device.str());
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_dynamic_map(is_signed).to(device)).first;
  return it->second;
}

int64_t state_blocks(int64_t numel) { return (numel + kStateBlockSize - 1) / kStateBlockSize; }

BlockwiseState zero_blockwise_state(const at::Tensor& like) {
  BlockwiseState s;
  s.codes = at::zeros(like.sizes(), like.options().dtype(at::kByte));
  s.absmax = at::zeros({state_blocks(like.numel())}, like.options().dtype(at::kFloat));
  return s;
}

namespace {
// The flat tensor zero-padded to whole blocks, viewed as [blocks, 256].
at::Tensor as_blocks(const at::Tensor& flat) {
  const int64_t n = flat.numel(), padded = state_blocks(n) * kStateBlockSize;
  at::Tensor t = padded == n ? flat : at::constant_pad_nd(flat, {0, padded - n}, 0);
  return t.view({-1, kStateBlockSize});
}
}  // namespace

namespace {

bool cpu_fast_path(const at::Tensor& t) { return t.is_cpu() && t.is_contiguous(); }

// The CPU loops: the same float operations as the ATen expressions below (so the same
// bytes), without their int64 index tensors and searchsorted (about 50x faster).
void dequantize_cpu(const BlockwiseState& state, const float* map, float* out) {
  const uint8_t* codes = state.codes.data_ptr<uint8_t>();
  const float* absmax = state.absmax.data_ptr<float>();
  const int64_t n = state.codes.numel();
  at::parallel_for(0, state_blocks(n), 16, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t end = std::min(n, (b + 1) * kStateBlockSize);
      for (int64_t i = b * kStateBlockSize; i < end; ++i) out[i] = map[codes[i]] * absmax[b];
    }
  });
}

void quantize_cpu(const float* values, const float* map, BlockwiseState& state) {
  const CodeSearch search(map);
  uint8_t* codes = state.codes.data_ptr<uint8_t>();
  float* absmax = state.absmax.data_ptr<float>();
  const int64_t n = state.codes.numel();
  at::parallel_for(0, state_blocks(n), 16, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = b * kStateBlockSize, end = std::min(n, begin + kStateBlockSize);
      absmax[b] = quantize_block_cpu(values + begin, end - begin, search, codes + begin);
    }
  });
}

}  // namespace

namespace {
// Floats as unsigned integers in the same order (negatives flipped), so a bucket of the top
// bits is an interval of values.
inline uint32_t order_key(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline uint32_t bucket_of(float x) { return order_key(x) >> (32 - CodeSearch::kBucketBits); }
}  // namespace

CodeSearch::CodeSearch(const float* map) {
  std::copy(map, map + 256, entries);
  std::fill(entries + 256, std::end(entries), std::numeric_limits<float>::infinity());
  // start[b]: the map entries in buckets below b, all smaller than any value in bucket b.
  int64_t pos = 0;
  for (uint32_t b = 0; b <= kBuckets; ++b) {
    while (pos < 256 && bucket_of(map[pos]) < b) ++pos;
    start[b] = static_cast<uint16_t>(pos);
    if (b > 0) steps = std::max(steps, start[b] - start[b - 1]);
  }
  TORCH_CHECK(steps < 16, "code map too dense for the bucketed search");
}

float quantize_block_cpu(const float* values, int64_t count, const CodeSearch& search, uint8_t* codes) {
  const float* map = search.entries;
  float am = 0.0f;
  for (int64_t i = 0; i < count; ++i) am = std::max(am, std::fabs(values[i]));
  for (int64_t i = 0; i < count; ++i) {
    const float x = values[i] / am;
    if (std::isnan(x)) {  // 0/0 in an all-zero block
      codes[i] = 0;
      continue;
    }
    // std::upper_bound(map, map + 256, x): start at the first entry of x's bucket and step over
    // the entries of that bucket that are <= x, branch-free (a branchy binary search per value
    // was most of an 8-bit optimizer step). The sentinels stop the walk at the end of the map.
    int64_t pos = search.start[bucket_of(x)];
    for (int k = 0; k < search.steps; ++k) pos += search.entries[pos] <= x;
    const int64_t left = std::clamp<int64_t>(pos - 1, 0, 255);
    const int64_t right = std::min<int64_t>(left + 1, 255);
    codes[i] = static_cast<uint8_t>(std::fabs(x - map[right]) < std::fabs(x - map[left]) ? right : left);
  }
  return am;
}

at::Tensor dequantize_blockwise(const BlockwiseState& state, const at::Tensor& map) {
  if (cpu_fast_path(state.codes) && cpu_fast_path(state.absmax)) {
    at::Tensor out = at::empty(state.codes.sizes(), state.absmax.options());
    dequantize_cpu(state, map.contiguous().data_ptr<float>(), out.data_ptr<float>());
    return out;
  }
  return dequantize_blockwise_aten(state, map);
}

at::Tensor dequantize_blockwise_aten(const BlockwiseState& state, const at::Tensor& map) {
  const int64_t n = state.codes.numel();
  at::Tensor values = at::take(map, state.codes.reshape(-1).to(at::kLong));
  at::Tensor scaled = as_blocks(values) * state.absmax.unsqueeze(1);
  return scaled.view(-1).narrow(0, 0, n).view(state.codes.sizes());
}

void quantize_blockwise_into(const at::Tensor& values, const at::Tensor& map, BlockwiseState& state) {
  if (values.is_cpu() && cpu_fast_path(state.codes) && cpu_fast_path(state.absmax)) {
    const at::Tensor v = values.to(at::kFloat).contiguous();
    quantize_cpu(v.data_ptr<float>(), map.contiguous().data_ptr<float>(), state);
    return;
  }
  quantize_blockwise_into_aten(values, map, state);
}

void quantize_blockwise_into_aten(const at::Tensor& values, const at::Tensor& map, BlockwiseState& state) {
  const int64_t n = values.numel();
  at::Tensor blocks = as_blocks(values.reshape(-1).to(at::kFloat));
  at::Tensor absmax = blocks.abs().amax(1);
  at::Tensor normed = blocks / absmax.unsqueeze(1);
  // The entry at or below the value, then one to the right when that is strictly closer
  // (bitsandbytes' binary search + distance check).
  at::Tensor left = at::searchsorted(map, normed, /*out_int32=*/false, /*right=*/true).sub_(1).clamp_(0, 255);
  at::Tensor right = (left + 1).clamp_max_(255);
  at::Tensor closer_right = (normed - at::take(map, right)).abs() < (normed - at::take(map, left)).abs();
  at::Tensor idx = at::where(closer_right, right, left);
  idx.masked_fill_(normed.isnan(), 0);  // 0/0 in an all-zero block
  state.codes.copy_(idx.view(-1).narrow(0, 0, n).view(state.codes.sizes()));
  state.absmax.copy_(absmax);
}

}  // namespace axl::train
