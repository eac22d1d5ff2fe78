// GgufWriter (models/gguf_writer.h) read back by our GGUF reader, and the float32 -> F16 / BF16 /
// Q8_0 / Q4_0 encoders (models/gguf_quantize.h), against exact values and gguf-py's bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "axl/core/error.h"
#include "axl/core/safetensors.h"
#include "axl/models/gguf_dequant.h"
#include "axl/models/gguf_file.h"
#include "axl/models/gguf_quantize.h"
#include "axl/models/gguf_writer.h"
#include "tests/core/gguf_test_util.h"
#include "tests/fixtures.h"

namespace {

using axl::models::GgmlType;
using axl::models::GgufFile;
using axl::models::GgufValue;
using axl::models::GgufValueType;
using axl::models::GgufWriter;
namespace m = axl::models;

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i)) * static_cast<float>(1 + i % 7);
  return v;
}

GgufValue scalar(GgufValueType t, uint64_t u, int64_t i, double f) {
  GgufValue v;
  v.type = t;
  v.u64 = u;
  v.i64 = i;
  v.f64 = f;
  return v;
}

TEST(GgufWriter, EveryValueAndTensorTypeReadsBackIdentically) {
  GgufWriter w;
  w.add("u8", scalar(GgufValueType::UINT8, 200, 0, 0));
  w.add("i8", scalar(GgufValueType::INT8, 0, -100, 0));
  w.add("u16", scalar(GgufValueType::UINT16, 65000, 0, 0));
  w.add("i16", scalar(GgufValueType::INT16, 0, -32000, 0));
  w.add_u32("u32", 4000000000u);
  w.add_i32("i32", -2000000000);
  w.add_f32("f32", 1e-5f);
  w.add_bool("bool", true);
  w.add_string("str", "héllo ▁world");
  w.add("u64", scalar(GgufValueType::UINT64, 1ull << 60, 0, 0));
  w.add("i64", scalar(GgufValueType::INT64, 0, -(1ll << 60), 0));
  w.add("f64", scalar(GgufValueType::FLOAT64, 0, 0, 0.1));
  w.add_strings("strs", {"a", "", "<0x0A>", "▁the"});
  w.add_f32s("f32s", {-1000.0f, 0.5f, 3.25f});
  w.add_i32s("i32s", {1, 2, 3, 6, -1});
  const auto x = ramp(4 * 64, 0.25f);
  const GgmlType types[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0};
  std::vector<std::vector<unsigned char>> bytes;
  for (GgmlType t : types) {
    bytes.push_back(m::quantize(t, x.data(), static_cast<int64_t>(x.size())));
    w.add_tensor(std::string("t.") + m::ggml_type_name(t), {4, 64}, t, bytes.back());
  }
  w.add_tensor("norm", {3}, GgmlType::F32, m::quantize(GgmlType::F32, x.data(), 3));
  const std::string dir = axl::test::scratch_dir("gguf-writer");
  w.write(dir + "/all.gguf");

  auto f = GgufFile::open(dir + "/all.gguf");
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_start() % 32, 0u);
  ASSERT_EQ(f->metadata().size(), 15u);
  EXPECT_EQ(f->metadata()[0].first, "u8");
  EXPECT_EQ(f->find("u8")->u64, 200u);
  EXPECT_EQ(f->find("i8")->i64, -100);
  EXPECT_EQ(f->find("u16")->u64, 65000u);
  EXPECT_EQ(f->find("i16")->i64, -32000);
  EXPECT_EQ(f->get_int("u32"), 4000000000ll);
  EXPECT_EQ(f->find("u32")->type, GgufValueType::UINT32);
  EXPECT_EQ(f->get_int("i32"), -2000000000);
  EXPECT_EQ(f->find("f32")->type, GgufValueType::FLOAT32);
  EXPECT_EQ(static_cast<float>(f->get_double("f32")), 1e-5f);
  EXPECT_EQ(f->find("bool")->type, GgufValueType::BOOL);
  EXPECT_EQ(f->find("bool")->u64, 1u);
  EXPECT_EQ(f->get_string("str"), "héllo ▁world");
  EXPECT_EQ(f->find("u64")->u64, 1ull << 60);
  EXPECT_EQ(f->find("i64")->i64, -(1ll << 60));
  EXPECT_EQ(f->get_double("f64"), 0.1);
  EXPECT_EQ(f->find("strs")->strs, (std::vector<std::string>{"a", "", "<0x0A>", "▁the"}));
  EXPECT_EQ(f->find("f32s")->elem_type, GgufValueType::FLOAT32);
  EXPECT_EQ(f->find("f32s")->f64s, (std::vector<double>{-1000.0, 0.5, 3.25}));
  EXPECT_EQ(f->find("i32s")->i64s, (std::vector<int64_t>{1, 2, 3, 6, -1}));

  ASSERT_EQ(f->tensors().size(), 6u);
  for (std::size_t k = 0; k < 5; ++k) {
    const auto& t = f->tensors()[k];
    EXPECT_EQ(t.name, std::string("t.") + m::ggml_type_name(types[k]));
    EXPECT_EQ(t.type, types[k]);
    EXPECT_EQ(t.ne, (std::vector<int64_t>{64, 4}));  // ggml order: row length first
    EXPECT_EQ(t.offset % 32, 0u);
    ASSERT_EQ(t.nbytes, bytes[k].size());
    EXPECT_EQ(std::memcmp(f->tensor_data(t), bytes[k].data(), t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(f->tensors()[5].ne, (std::vector<int64_t>{3}));
  // F32 data comes back as the very floats written.
  std::vector<float> back = m::dequantize_tensor(*f, f->tensors()[0]);
  EXPECT_EQ(std::memcmp(back.data(), x.data(), x.size() * 4), 0);
}

TEST(GgufWriter, GeneralAlignmentSetsTheDataAlignment) {
  GgufWriter w;
  GgufValue a;
  a.type = GgufValueType::UINT32;
  a.u64 = 64;
  w.add("general.alignment", a);
  const auto x = ramp(33, 1.0f);
  w.add_tensor("a", {33}, GgmlType::F32, m::quantize(GgmlType::F32, x.data(), 33));
  w.add_tensor("b", {33}, GgmlType::F32, m::quantize(GgmlType::F32, x.data(), 33));
  const std::string dir = axl::test::scratch_dir("gguf-writer-align");
  w.write(dir + "/a.gguf");
  auto f = GgufFile::open(dir + "/a.gguf");
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_start() % 64, 0u);
  EXPECT_EQ(f->tensors()[1].offset, 192u);  // 132 bytes padded to 64
}

TEST(GgufWriter, RejectsWhatGgmlCannotHoldAndLeavesNoFileBehind) {
  GgufWriter w;
  const auto x = ramp(40, 1.0f);
  EXPECT_THROW(w.add_tensor("q", {40}, GgmlType::Q8_0, std::vector<unsigned char>(34)), axl::Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), {40}, GgmlType::F32, std::vector<unsigned char>(160)), axl::Error);
  EXPECT_THROW(w.add_u32("k", 1); w.add_u32("k", 2), std::logic_error);
  w.add_tensor("short", {40}, GgmlType::F32, std::vector<unsigned char>(12));  // wrong size, found on write
  const std::string dir = axl::test::scratch_dir("gguf-writer-bad");
  EXPECT_THROW(w.write(dir + "/bad.gguf"), std::logic_error);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(GgufQuantize, HalfRoundTripsEveryHalfAndRoundsTiesToEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = m::f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(m::f16_to_f32(m::f32_to_f16(f))));
      continue;
    }
    ASSERT_EQ(m::f32_to_f16(f), h) << h;
  }
  EXPECT_EQ(m::f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even (1.0)
  EXPECT_EQ(m::f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(m::f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(m::f32_to_f16(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(m::f32_to_f16(-1e30f), 0xfc00);
  EXPECT_EQ(m::f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);               // half the smallest subnormal: even
  EXPECT_EQ(m::f32_to_f16(std::ldexp(1.0f, -25) * 1.0001f), 0x0001);
  EXPECT_EQ(m::f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(m::f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);            // tie -> even
  EXPECT_EQ(m::f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(m::f32_to_bf16(std::numeric_limits<float>::quiet_NaN()) & 0x7fc0, 0x7fc0);
}

TEST(GgufQuantize, BlocksDecodeWithinHalfAStep) {
  const auto x = ramp(32 * 50, 3.0f);
  const int64_t n = static_cast<int64_t>(x.size());
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    const auto q = m::quantize(t, x.data(), n);
    std::vector<float> back(x.size());
    m::dequantize(t, q.data(), q.size(), back.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
      // Half a step from rounding plus up to 128 steps of the f16 rounding of d (2^-11 each);
      // Q4_0 clips +8 steps to +7 on the side opposite its extreme: up to a whole step.
      const float step = t == GgmlType::Q8_0 ? amax / 127 : amax / 8;
      const float bound = t == GgmlType::Q8_0 ? step * (0.5f + 128.0f / 2048.0f) : step * (1.0f + 8.0f / 2048.0f);
      for (int j = 0; j < 32; ++j)
        ASSERT_LE(std::fabs(back[b * 32 + j] - x[b * 32 + j]), bound * 1.001f + 1e-6f)
            << m::ggml_type_name(t) << " block " << b << " value " << j;
    }
  }
  // An all-zero block encodes d = 0 and zero codes (Q4_0's zero code is 8).
  const std::vector<float> zeros(32, 0.0f);
  const auto q8 = m::quantize(GgmlType::Q8_0, zeros.data(), 32);
  EXPECT_EQ(q8, std::vector<unsigned char>(34, 0));
  const auto q4 = m::quantize(GgmlType::Q4_0, zeros.data(), 32);
  EXPECT_EQ(q4[0], 0);
  EXPECT_EQ(q4[2], 0x88);
}

TEST(GgufQuantize, BytesEqualGgufPyQuantize) {
  AXL_REQUIRE_PEER(dir, "gguf-export");
  auto input = axl::SafetensorsFile::open(dir + "/quant-input.safetensors");
  auto expected = axl::SafetensorsFile::open(dir + "/quant-expected.safetensors");
  int compared = 0;
  for (const auto& info : input->tensors()) {
    const auto view = input->get(info.name);
    const auto* x = reinterpret_cast<const float*>(view.data);
    for (const auto& [name, t] : {std::pair{"F16", GgmlType::F16}, std::pair{"BF16", GgmlType::BF16},
                                  std::pair{"Q8_0", GgmlType::Q8_0}, std::pair{"Q4_0", GgmlType::Q4_0}}) {
      const auto want = expected->get(info.name + "." + name);
      const auto got = m::quantize(t, x, info.numel());
      ASSERT_EQ(got.size(), want.nbytes) << info.name << " " << name;
      EXPECT_EQ(std::memcmp(got.data(), want.data, want.nbytes), 0) << info.name << " " << name;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8);
}

}  // namespace
