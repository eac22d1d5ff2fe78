#include "axl/models/gguf_quantize.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "axl/models/gguf_writer.h"

namespace axl::models {

namespace {

constexpr int kBlock = 32;  // QK8_0 = QK4_0

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void put_u16(unsigned char* dst, uint16_t v) { std::memcpy(dst, &v, 2); }

// numpy's np_roundf as gguf-py writes it (half away from zero, like C roundf).
float round_half_away(float n) {
  const float a = std::fabs(n);
  const float floored = std::floor(a);
  const float b = floored + std::floor(2.0f * (a - floored));
  return std::copysign(b, n) * (n == 0.0f ? 0.0f : 1.0f);
}

// Q8_0 block: f16 d = max|x| / 127, then int8 round(x / d).
void q8_0_block(const float* x, unsigned char* out) {
  float amax = 0.0f;
  for (int j = 0; j < kBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  put_u16(out, f32_to_f16(d));
  for (int j = 0; j < kBlock; ++j) {
    const auto q = static_cast<int8_t>(round_half_away(x[j] * id));
    std::memcpy(out + 2 + j, &q, 1);
  }
}

// Q4_0 block: d = (the value of largest magnitude, first one on ties) / -8, nibbles
// min(15, trunc(x/d + 8.5)); element j in the low nibble of byte j, j+16 in its high nibble.
void q4_0_block(const float* x, unsigned char* out) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kBlock; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  put_u16(out, f32_to_f16(d));
  auto nibble = [&](float v) {
    const float t = std::trunc(v * id + 8.5f);
    return static_cast<unsigned char>(t >= 15.0f ? 15 : (t <= 0.0f ? 0 : static_cast<int>(t)));
  };
  for (int j = 0; j < kBlock / 2; ++j)
    out[2 + j] = static_cast<unsigned char>(nibble(x[j]) | (nibble(x[j + kBlock / 2]) << 4));
}

}  // namespace

bool can_quantize(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 || t == GgmlType::Q8_0 ||
         t == GgmlType::Q4_0;
}

// numpy's npy_floatbits_to_halfbits, without the floating-point exception flags.
uint16_t f32_to_f16(float value) {
  const uint32_t f = bits_of(value);
  const auto h_sgn = static_cast<uint16_t>((f & 0x80000000u) >> 16);
  uint32_t f_exp = f & 0x7f800000u;
  uint32_t f_sig = f & 0x007fffffu;
  if (f_exp >= 0x47800000u) {  // overflow, inf or NaN
    if (f_exp == 0x7f800000u && f_sig != 0) {
      auto ret = static_cast<uint16_t>(0x7c00u + (f_sig >> 13));
      if (ret == 0x7c00u) ++ret;  // keep it a NaN
      return static_cast<uint16_t>(h_sgn + ret);
    }
    return static_cast<uint16_t>(h_sgn + 0x7c00u);
  }
  if (f_exp <= 0x38000000u) {  // a half subnormal or zero
    if (f_exp < 0x33000000u) return h_sgn;
    f_exp >>= 23;
    f_sig = 0x00800000u + (f & 0x007fffffu);
    f_sig >>= (113 - f_exp);
    // Round to nearest-even; the bits the shift dropped count as "above half" too.
    if ((f_sig & 0x00003fffu) != 0x00001000u || (f & 0x000007ffu)) f_sig += 0x00001000u;
    return static_cast<uint16_t>(h_sgn + (f_sig >> 13));
  }
  const auto h_exp = static_cast<uint16_t>((f_exp - 0x38000000u) >> 13);
  if ((f_sig & 0x00003fffu) != 0x00001000u) f_sig += 0x00001000u;
  // A carry out of the significand bumps the exponent, up to inf: both correct.
  return static_cast<uint16_t>(h_sgn + h_exp + (f_sig >> 13));
}

uint16_t f32_to_bf16(float value) {
  uint32_t u = bits_of(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

std::vector<unsigned char> quantize(GgmlType type, const float* src, int64_t numel) {
  std::vector<unsigned char> out(ggml_nbytes(type, numel));
  unsigned char* dst = out.data();
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, out.size());
      break;
    case GgmlType::F16:
      for (int64_t i = 0; i < numel; ++i) put_u16(dst + 2 * i, f32_to_f16(src[i]));
      break;
    case GgmlType::BF16:
      for (int64_t i = 0; i < numel; ++i) put_u16(dst + 2 * i, f32_to_bf16(src[i]));
      break;
    case GgmlType::Q8_0:
      for (int64_t b = 0; b < numel / kBlock; ++b) q8_0_block(src + b * kBlock, dst + b * 34);
      break;
    case GgmlType::Q4_0:
      for (int64_t b = 0; b < numel / kBlock; ++b) q4_0_block(src + b * kBlock, dst + b * 18);
      break;
    default:
      throw std::logic_error(std::string("quantize: no encoder for ggml type ") + ggml_type_name(type));
  }
  return out;
}

}  // namespace axl::models
