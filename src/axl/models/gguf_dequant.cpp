#include "axl/models/gguf_dequant.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "axl/core/error.h"

// Each decoder below mirrors the numpy expression of the same class in gguf-py's quants.py,
// kept in its operand order: numpy evaluates elementwise in float32 and rounds after every
// operation, so e.g. Q4_1 is (d * q) + m with two roundings, and the K-quants first form the
// per-sub-block scale d * sc and only then multiply by q.

namespace axl::models {

namespace {

constexpr int kQK = 256;  // QK_K: elements per K-quant super-block

uint16_t load_u16(const unsigned char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

float load_f16(const unsigned char* p) { return f16_to_f32(load_u16(p)); }

void block_q4_0(const unsigned char* b, float* y) {
  const float d = load_f16(b);
  const unsigned char* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
  }
}

void block_q4_1(const unsigned char* b, float* y) {
  const float d = load_f16(b), m = load_f16(b + 2);
  const unsigned char* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

// Q5_0/Q5_1: the fifth bit of element i is bit i of a little-endian u32.
uint32_t load_u32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void block_q5_0(const unsigned char* b, float* y) {
  const float d = load_f16(b);
  const uint32_t qh = load_u32(b + 2);
  const unsigned char* qs = b + 6;
  for (int j = 0; j < 32; ++j) {
    const int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
    const int q = lo | static_cast<int>(((qh >> j) & 1u) << 4);
    y[j] = d * static_cast<float>(q - 16);
  }
}

void block_q5_1(const unsigned char* b, float* y) {
  const float d = load_f16(b), m = load_f16(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const unsigned char* qs = b + 8;
  for (int j = 0; j < 32; ++j) {
    const int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
    const int q = lo | static_cast<int>(((qh >> j) & 1u) << 4);
    y[j] = d * static_cast<float>(q) + m;
  }
}

void block_q8_0(const unsigned char* b, float* y) {
  const float d = load_f16(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// 256 = 16 groups of 16; 2-bit quants, 4-bit scale and 4-bit min per group.
void block_q2_k(const unsigned char* b, float* y) {
  const unsigned char* scales = b;
  const unsigned char* qs = b + 16;
  const float d = load_f16(b + 80), dmin = load_f16(b + 82);
  for (int g = 0; g < 16; ++g) {
    const float dl = d * static_cast<float>(scales[g] & 0x0F);
    const float ml = dmin * static_cast<float>(scales[g] >> 4);
    for (int k = 0; k < 16; ++k) {
      const int f = g * 16 + k;  // f = half*128 + shift*32 + i
      const int half = f / 128, shift = (f / 32) % 4, i = f % 32;
      const int q = (qs[half * 32 + i] >> (2 * shift)) & 3;
      y[f] = dl * static_cast<float>(q) - ml;
    }
  }
}

// 16 groups of 16; 2 low bits in qs, an inverted high bit in hmask, signed 6-bit scales.
void block_q3_k(const unsigned char* b, float* y) {
  const unsigned char* hmask = b;
  const unsigned char* qs = b + 32;
  const unsigned char* sc = b + 96;
  const float d = load_f16(b + 108);
  for (int g = 0; g < 16; ++g) {
    const int lo = g < 8 ? (sc[g] & 0x0F) : (sc[g - 8] >> 4);
    const int hi = (sc[8 + g % 4] >> (2 * (g / 4))) & 3;
    const float dl = d * static_cast<float>((lo | (hi << 4)) - 32);
    for (int k = 0; k < 16; ++k) {
      const int f = g * 16 + k;
      const int half = f / 128, shift = (f / 32) % 4, i = f % 32;
      const int ql = (qs[half * 32 + i] >> (2 * shift)) & 3;
      const int qh = ((hmask[i] >> (f / 32)) & 1) ^ 1;
      y[f] = dl * static_cast<float>(ql - (qh << 2));
    }
  }
}

// The 12 packed bytes of Q4_K/Q5_K: eight 6-bit scales and eight 6-bit mins.
void k_scale_min(const unsigned char* s, int sc[8], int mn[8]) {
  for (int i = 0; i < 4; ++i) {
    sc[i] = s[i] & 0x3F;
    mn[i] = s[4 + i] & 0x3F;
    sc[4 + i] = (s[8 + i] & 0x0F) | ((s[i] >> 2) & 0x30);
    mn[4 + i] = (s[8 + i] >> 4) | ((s[4 + i] >> 2) & 0x30);
  }
}

// 8 sub-blocks of 32; sub-block 2k is the low nibbles of qs[32k..], 2k+1 the high nibbles.
void block_q4_k(const unsigned char* b, float* y) {
  const float d = load_f16(b), dmin = load_f16(b + 2);
  int sc[8], mn[8];
  k_scale_min(b + 4, sc, mn);
  const unsigned char* qs = b + 16;
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    const float dm = dmin * static_cast<float>(mn[s]);
    const int shift = (s % 2) * 4;
    for (int i = 0; i < 32; ++i) {
      const int q = (qs[(s / 2) * 32 + i] >> shift) & 0x0F;
      y[s * 32 + i] = ds * static_cast<float>(q) - dm;
    }
  }
}

// As Q4_K plus a fifth bit: bit s of qh[i] belongs to sub-block s.
void block_q5_k(const unsigned char* b, float* y) {
  const float d = load_f16(b), dmin = load_f16(b + 2);
  int sc[8], mn[8];
  k_scale_min(b + 4, sc, mn);
  const unsigned char* qh = b + 16;
  const unsigned char* qs = b + 48;
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    const float dm = dmin * static_cast<float>(mn[s]);
    const int shift = (s % 2) * 4;
    for (int i = 0; i < 32; ++i) {
      const int q = ((qs[(s / 2) * 32 + i] >> shift) & 0x0F) | (((qh[i] >> s) & 1) << 4);
      y[s * 32 + i] = ds * static_cast<float>(q) - dm;
    }
  }
}

// Two halves of 128; in each, element t*64+i takes nibble t of ql[i] and element u*32+i
// takes bits 2u..2u+1 of qh[i]. 16 signed 8-bit scales, one per 16 elements.
void block_q6_k(const unsigned char* b, float* y) {
  const unsigned char* ql = b;
  const unsigned char* qh = b + 128;
  const unsigned char* scales = b + 192;
  const float d = load_f16(b + 208);
  for (int f = 0; f < kQK; ++f) {
    const int half = f / 128, r = f % 128;
    const int lo = (ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
    const int hi = (qh[half * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
    const float ds = d * static_cast<float>(static_cast<int8_t>(scales[f / 16]));
    y[f] = ds * static_cast<float>((lo | (hi << 4)) - 32);
  }
}

using BlockFn = void (*)(const unsigned char*, float*);

BlockFn block_fn(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return block_q4_0;
    case GgmlType::Q4_1: return block_q4_1;
    case GgmlType::Q5_0: return block_q5_0;
    case GgmlType::Q5_1: return block_q5_1;
    case GgmlType::Q8_0: return block_q8_0;
    case GgmlType::Q2_K: return block_q2_k;
    case GgmlType::Q3_K: return block_q3_k;
    case GgmlType::Q4_K: return block_q4_k;
    case GgmlType::Q5_K: return block_q5_k;
    case GgmlType::Q6_K: return block_q6_k;
    default: return nullptr;
  }
}

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x03FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / NaN, payload kept as numpy keeps it
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise into a float32 normal.
    uint32_t e = 113;
    while ((mant & 0x0400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x03FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

bool can_dequantize(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 || block_fn(t) != nullptr;
}

void dequantize(GgmlType type, const unsigned char* src, std::size_t nbytes, float* dst,
                int64_t numel) {
  auto tr = ggml_type_traits(static_cast<uint32_t>(type));
  if (!tr || !can_dequantize(type))
    throw Error(std::string("cannot dequantise ggml type ") + ggml_type_name(type) +
                " (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
  if (numel < 0 || numel % tr->block_size != 0 ||
      static_cast<uint64_t>(numel) / tr->block_size * tr->type_size != nbytes)
    throw std::logic_error("dequantize: " + std::to_string(nbytes) + " bytes do not hold " +
                           std::to_string(numel) + " " + tr->name + " elements");
  const auto n = static_cast<std::size_t>(numel);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case GgmlType::F16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = load_f16(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        const uint32_t bits = static_cast<uint32_t>(load_u16(src + 2 * i)) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    default:
      break;
  }
  BlockFn fn = block_fn(type);
  const std::size_t blocks = n / tr->block_size;
  for (std::size_t i = 0; i < blocks; ++i) fn(src + i * tr->type_size, dst + i * tr->block_size);
}

std::vector<float> dequantize_tensor(const GgufFile& file, const GgufTensorInfo& t) {
  if (!can_dequantize(t.type))
    throw Error(file.path() + ": tensor '" + t.name + "' has ggml type " + ggml_type_name(t.type) +
                ", which cannot be dequantised yet (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, "
                "Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  dequantize(t.type, file.tensor_data(t), static_cast<std::size_t>(t.nbytes), out.data(), t.numel());
  return out;
}

}  // namespace axl::models
