// GGUF dequantisation: known answers on hand-made blocks of every type, then bit-for-bit
// equality with gguf-py's gguf.quants.dequantize on random blocks (peer reference).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "axl/core/error.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_dequant.h"
#include "axl/models/gguf_file.h"
#include "tests/core/gguf_test_util.h"

namespace {

using namespace axl::test::gguf;

// ---- known answers on hand-made blocks ------------------------------------------------------

constexpr uint16_t kOne = 0x3C00, kTwo = 0x4000, kHalf = 0x3800, kQuarter = 0x3400, kMinusOne = 0xBC00;

void put_half(std::vector<uint8_t>& b, std::size_t off, uint16_t h) { std::memcpy(b.data() + off, &h, 2); }

std::vector<float> deq(GgmlType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<std::size_t>(n));
  axl::models::dequantize(t, bytes.data(), bytes.size(), out.data(), n);
  return out;
}

TEST(GgufDequant, F16IsExactForEveryClass) {
  using axl::models::f16_to_f32;
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));           // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03FF), 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));           // smallest normal
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);             // -0
  EXPECT_EQ(f16_to_f32(0x7C00), INFINITY);
  EXPECT_EQ(f16_to_f32(0xFC00), -INFINITY);
  EXPECT_EQ(bits_of(f16_to_f32(0x7E01)), 0x7FC02000u);             // NaN payload kept
  std::vector<uint8_t> b(4);
  put_half(b, 0, 0x3555);  // 0.333251953125
  put_half(b, 2, 0xB800);
  EXPECT_EQ(deq(GgmlType::F16, b, 2), (std::vector<float>{0.333251953125f, -0.5f}));
}

TEST(GgufDequant, BF16AndF32AreBitCopies) {
  std::vector<uint8_t> b = {0x80, 0x3F, 0xA0, 0xC0, 0x01, 0x00};  // 1.0, -5.0, a denormal
  auto v = deq(GgmlType::BF16, b, 3);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -5.0f);
  EXPECT_EQ(bits_of(v[2]), 0x00010000u);
  std::vector<float> f = {1.5f, -0.0f, 3e38f};
  std::vector<uint8_t> fb(12);
  std::memcpy(fb.data(), f.data(), 12);
  auto g = deq(GgmlType::F32, fb, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bits_of(g[i]), bits_of(f[i]));
}

TEST(GgufDequant, Q8_0KnownAnswer) {
  std::vector<uint8_t> b(34);
  put_half(b, 0, kHalf);
  for (int i = 0; i < 32; ++i) b[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i * 8 - 128));
  auto y = deq(GgmlType::Q8_0, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.5f * static_cast<float>(i * 8 - 128)) << i;
}

TEST(GgufDequant, Q4_0KnownAnswer) {
  std::vector<uint8_t> b(18);
  put_half(b, 0, kTwo);
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto y = deq(GgmlType::Q4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 2.0f * static_cast<float>(j - 8)) << j;            // low nibbles first
    EXPECT_EQ(y[16 + j], 2.0f * static_cast<float>(7 - j)) << j;       // then high nibbles
  }
}

TEST(GgufDequant, Q4_1KnownAnswer) {
  std::vector<uint8_t> b(20);
  put_half(b, 0, kHalf);
  put_half(b, 2, kMinusOne);
  for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto y = deq(GgmlType::Q4_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * static_cast<float>(j) - 1.0f) << j;
    EXPECT_EQ(y[16 + j], 0.5f * static_cast<float>(15 - j) - 1.0f) << j;
  }
}

TEST(GgufDequant, Q5_0AndQ5_1KnownAnswer) {
  std::vector<uint8_t> b(22);
  put_half(b, 0, kOne);
  const uint32_t qh = 0xAAAAAAAAu;  // the fifth bit on every odd element
  std::memcpy(b.data() + 2, &qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | (j << 4));
  auto y = deq(GgmlType::Q5_0, b, 32);
  for (int e = 0; e < 32; ++e) EXPECT_EQ(y[e], static_cast<float>(e % 16 + 16 * (e & 1) - 16)) << e;

  std::vector<uint8_t> c(24);
  put_half(c, 0, kQuarter);
  put_half(c, 2, kHalf);
  const uint32_t qh1 = 0xFFFF0000u;  // the fifth bit on elements 16..31
  std::memcpy(c.data() + 4, &qh1, 4);
  for (int j = 0; j < 16; ++j) c[8 + j] = static_cast<uint8_t>(j | (j << 4));
  auto z = deq(GgmlType::Q5_1, c, 32);
  for (int e = 0; e < 32; ++e) EXPECT_EQ(z[e], 0.25f * static_cast<float>(e % 16 + (e >= 16 ? 16 : 0)) + 0.5f) << e;
}

// Blocks below are encoded with the loop structure of ggml's reference dequantize_row_*
// (halves of 128, shifts by 2 per 32 elements), independently of the decoder's indexing.

TEST(GgufDequant, Q2_KKnownAnswer) {
  std::vector<uint8_t> b(84, 0);
  put_half(b, 80, kHalf);   // d
  put_half(b, 82, kQuarter);  // dmin
  int sc[16], mn[16], q[256];
  for (int g = 0; g < 16; ++g) {
    sc[g] = (g * 5 + 3) % 16;
    mn[g] = (g * 7 + 1) % 16;
    b[g] = static_cast<uint8_t>(sc[g] | (mn[g] << 4));
  }
  for (int y = 0; y < 256; ++y) q[y] = (y * 7 + y / 32) % 4;
  for (int n = 0; n < 2; ++n)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) b[16 + n * 32 + l] |= static_cast<uint8_t>(q[n * 128 + j * 32 + l] << (2 * j));
  auto y = deq(GgmlType::Q2_K, b, 256);
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(y[i], 0.5f * static_cast<float>(sc[i / 16]) * static_cast<float>(q[i]) -
                        0.25f * static_cast<float>(mn[i / 16])) << i;
}

TEST(GgufDequant, Q3_KKnownAnswer) {
  std::vector<uint8_t> b(110, 0);
  put_half(b, 108, kTwo);
  int s6[16], q[256];
  for (int g = 0; g < 16; ++g) {
    s6[g] = (g * 11 + 5) % 64;  // 6-bit scale, used as s6 - 32
    b[96 + (g % 8)] |= static_cast<uint8_t>((s6[g] & 0x0F) << (g < 8 ? 0 : 4));
    b[96 + 8 + g % 4] |= static_cast<uint8_t>((s6[g] >> 4) << (2 * (g / 4)));
  }
  for (int y = 0; y < 256; ++y) q[y] = (y * 5 + y / 64) % 8 - 4;  // -4..3
  for (int y = 0; y < 256; ++y) {
    const int n = y / 128, j = (y % 128) / 32, l = y % 32;
    const int low = q[y] >= 0 ? q[y] : q[y] + 4;  // the high mask bit set means "no -4"
    b[32 + n * 32 + l] |= static_cast<uint8_t>(low << (2 * j));
    if (q[y] >= 0) b[l] |= static_cast<uint8_t>(1 << (n * 4 + j));
  }
  auto y = deq(GgmlType::Q3_K, b, 256);
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(y[i], 2.0f * static_cast<float>(s6[i / 16] - 32) * static_cast<float>(q[i])) << i;
}

// The 12-byte scale/min packing of Q4_K and Q5_K (get_scale_min_k4 in ggml).
void pack_k4(const int sc[8], const int mn[8], uint8_t* s) {
  for (int i = 0; i < 4; ++i) {
    s[i] = static_cast<uint8_t>(sc[i] | ((sc[4 + i] >> 4) << 6));
    s[4 + i] = static_cast<uint8_t>(mn[i] | ((mn[4 + i] >> 4) << 6));
    s[8 + i] = static_cast<uint8_t>((sc[4 + i] & 0x0F) | ((mn[4 + i] & 0x0F) << 4));
  }
}

TEST(GgufDequant, Q4_KKnownAnswer) {
  std::vector<uint8_t> b(144, 0);
  put_half(b, 0, kOne);
  put_half(b, 2, kHalf);
  const int sc[8] = {1, 2, 3, 4, 5, 6, 7, 63}, mn[8] = {0, 2, 4, 6, 8, 10, 12, 47};
  pack_k4(sc, mn, b.data() + 4);
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 32; ++i) b[16 + k * 32 + i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  auto y = deq(GgmlType::Q4_K, b, 256);
  for (int s = 0; s < 8; ++s)
    for (int i = 0; i < 32; ++i) {
      const int q = s % 2 == 0 ? i % 16 : 15 - i % 16;  // sub-block 2k: low nibbles, 2k+1: high
      EXPECT_EQ(y[s * 32 + i], static_cast<float>(sc[s] * q) - 0.5f * static_cast<float>(mn[s])) << s << "," << i;
    }
}

TEST(GgufDequant, Q5_KKnownAnswer) {
  std::vector<uint8_t> b(176, 0);
  put_half(b, 0, kHalf);
  put_half(b, 2, kOne);
  const int sc[8] = {63, 1, 17, 33, 2, 40, 9, 50}, mn[8] = {5, 0, 63, 21, 16, 3, 32, 1};
  pack_k4(sc, mn, b.data() + 4);
  for (int i = 0; i < 32; ++i) b[16 + i] = (i % 2 == 0) ? 0x55 : 0xAA;  // qh: bit s per sub-block s
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 32; ++i) b[48 + k * 32 + i] = static_cast<uint8_t>(((i + k) % 16) | ((i % 16) << 4));
  auto y = deq(GgmlType::Q5_K, b, 256);
  for (int s = 0; s < 8; ++s)
    for (int i = 0; i < 32; ++i) {
      int q = s % 2 == 0 ? (i + s / 2) % 16 : i % 16;
      if ((s % 2) == (i % 2)) q += 16;
      EXPECT_EQ(y[s * 32 + i], 0.5f * static_cast<float>(sc[s]) * static_cast<float>(q) - static_cast<float>(mn[s]))
          << s << "," << i;
    }
}

TEST(GgufDequant, Q6_KKnownAnswer) {
  std::vector<uint8_t> b(210, 0);
  put_half(b, 208, kQuarter);
  int sc[16], q[256];
  for (int g = 0; g < 16; ++g) {
    sc[g] = g * 15 - 120;  // int8 -120..105
    b[192 + g] = static_cast<uint8_t>(static_cast<int8_t>(sc[g]));
  }
  for (int y = 0; y < 256; ++y) q[y] = (y * 13 + y / 16) % 64;  // stored 6-bit, used as q - 32
  for (int n = 0; n < 2; ++n)
    for (int l = 0; l < 32; ++l) {
      const int* v = q + n * 128;
      uint8_t* ql = b.data() + n * 64;
      uint8_t* qh = b.data() + 128 + n * 32;
      ql[l] = static_cast<uint8_t>((v[l] & 0xF) | ((v[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((v[l + 32] & 0xF) | ((v[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((v[l] >> 4) | ((v[l + 32] >> 4) << 2) | ((v[l + 64] >> 4) << 4) |
                                   ((v[l + 96] >> 4) << 6));
    }
  auto y = deq(GgmlType::Q6_K, b, 256);
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(y[i], 0.25f * static_cast<float>(sc[i / 16]) * static_cast<float>(q[i] - 32)) << i;
}

TEST(GgufDequant, RejectsUnsupportedTypesAndSizeMismatch) {
  std::vector<uint8_t> b(256, 0);
  std::vector<float> out(256);
  EXPECT_FALSE(axl::models::can_dequantize(GgmlType::IQ2_XXS));
  EXPECT_THROW(axl::models::dequantize(GgmlType::IQ4_NL, b.data(), 18, out.data(), 32), axl::Error);
  EXPECT_THROW(axl::models::dequantize(GgmlType::Q8_0, b.data(), 33, out.data(), 32), std::logic_error);
  EXPECT_THROW(axl::models::dequantize(GgmlType::Q8_0, b.data(), 34, out.data(), 31), std::logic_error);
  // Through a file, the error names the file and the tensor.
  Builder f;
  f.tensor("iq", {32}, GgmlType::IQ4_NL, std::string(18, '\0'));
  std::string path = write_file(axl::test::scratch_dir("gguf_iq"), "iq.gguf", f.build());
  auto g = axl::models::GgufFile::open(path);
  try {
    axl::models::dequantize_tensor(*g, g->tensor("iq"));
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("iq.gguf: tensor 'iq'"), std::string::npos) << e.what();
  }
}

// ---- bit-exact against gguf-py on random blocks --------------------------------------------

TEST(GgufPeer, DequantMatchesGgufPyBitForBit) {
  AXL_REQUIRE_PEER(dir, "gguf-dequant/random.gguf");
  auto f = axl::models::GgufFile::open(dir);
  auto ref = axl::SafetensorsFile::open(dir.substr(0, dir.size() - 4) + "safetensors");
  EXPECT_EQ(f->alignment(), 64u);
  std::set<std::string> types;
  for (const auto& t : f->tensors()) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(ref->contains(t.name));
    auto want = ref->get(t.name);
    EXPECT_EQ(want.info->shape, t.shape());
    auto got = axl::models::dequantize_tensor(*f, t);
    ASSERT_EQ(want.nbytes, got.size() * 4);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      uint32_t w;
      std::memcpy(&w, want.data + 4 * i, 4);
      if (w != bits_of(got[i]) && mismatches++ < 3)
        ADD_FAILURE() << "element " << i << ": got bits " << std::hex << bits_of(got[i]) << ", gguf-py " << w;
    }
    EXPECT_EQ(mismatches, 0u) << "of " << got.size();
    types.insert(axl::models::ggml_type_name(t.type));
  }
  EXPECT_EQ(types, (std::set<std::string>{"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                                          "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}));
  // Metadata of every value type, as the script wrote it.
  EXPECT_EQ(f->get_int("test.u8"), 200);
  EXPECT_EQ(f->get_int("test.i8"), -100);
  EXPECT_EQ(f->get_int("test.u16"), 60000);
  EXPECT_EQ(f->get_int("test.i16"), -30000);
  EXPECT_EQ(f->get_int("test.u32"), 4000000000LL);
  EXPECT_EQ(f->get_int("test.i32"), -2000000000LL);
  EXPECT_EQ(f->get_double("test.f32"), 0.25);
  EXPECT_EQ(f->find("test.bool")->u64, 1u);
  EXPECT_EQ(f->get_string("test.str"), "h\xc3\xa9llo gguf");
  EXPECT_EQ(f->get_int("test.u64"), 1LL << 40);
  EXPECT_EQ(f->get_int("test.i64"), -(1LL << 40));
  EXPECT_EQ(f->get_double("test.f64"), -1.5e300);
  EXPECT_EQ(f->find("test.strs")->strs, (std::vector<std::string>{"a", "", "\xc3\xbcn\xc3\xaf", "end"}));
  EXPECT_EQ(f->find("test.i32s")->i64s, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f->find("test.f32s")->f64s, (std::vector<double>{0.5, -0.25}));
  EXPECT_EQ(f->tensor("t.Q8_0.3d").shape(), (std::vector<int64_t>{2, 3, 64}));
}

}  // namespace
