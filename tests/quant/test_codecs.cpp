// Known answers and properties of the bitsandbytes-compatible codecs (src/axl/quant).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>

#include "axl/core/error.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/blockwise_8bit.h"
#include "axl/quant/code_tables.h"
#include "axl/quant/int8_rowwise.h"

using namespace axl::quant;

namespace {

// Largest half-gap between neighbouring table values: the worst rounding error of a value
// scaled into [-1, 1].
double max_half_gap(Quant4Type t) {
  at::Tensor s = std::get<0>(code_table_4bit(t).sort());
  return ((s.slice(0, 1, 16) - s.slice(0, 0, 15)).max().item<double>()) / 2;
}

}  // namespace

TEST(QuantTables, Nf4AndFp4KnownValues) {
  at::Tensor nf4 = code_table_4bit(Quant4Type::NF4);
  EXPECT_EQ(nf4[0].item<float>(), -1.0f);
  EXPECT_EQ(nf4[7].item<float>(), 0.0f);
  EXPECT_EQ(nf4[15].item<float>(), 1.0f);
  EXPECT_EQ(nf4[13].item<float>(), 0.5626170039176941f);
  at::Tensor fp4 = code_table_4bit(Quant4Type::FP4);
  EXPECT_EQ(fp4[3].item<float>(), 1.0f);            // 0b011 = 12, the largest
  EXPECT_EQ(fp4[1].item<float>(), 0.0625f / 12.0f); // the subnormal
  EXPECT_EQ(fp4[2].item<float>(), 8.0f / 12.0f);
  EXPECT_EQ(fp4[11].item<float>(), -1.0f);          // sign bit set
  EXPECT_TRUE(std::signbit(fp4[8].item<float>()));  // -0
  EXPECT_NEAR(max_half_gap(Quant4Type::NF4), (1.0 - 0.6961928009986877) / 2, 1e-7);  // the gap below -0.696
}

TEST(QuantTables, DynamicMapShape) {
  at::Tensor d = dynamic_map_8bit();
  ASSERT_EQ(d.numel(), 256);
  EXPECT_TRUE(at::equal(d, std::get<0>(d.sort())));
  EXPECT_EQ(d[255].item<float>(), 1.0f);
  EXPECT_NEAR(d[0].item<float>(), -0.99297, 1e-5);
  EXPECT_EQ((d == 0).sum().item<int64_t>(), 1);
}

TEST(QuantPacking, FirstElementInHighNibble) {
  // Values that are exactly table entries (absmax 1): codes 0, 15, 7, 13, 7(pad).
  at::Tensor w = at::tensor({-1.0f, 1.0f, 0.0f, 0.5626170039176941f, 0.0f}, at::kFloat).view({1, 5});
  Quantized4bit q = quantize_4bit(w, Quant4Type::NF4, 32);
  ASSERT_EQ(q.packed.numel(), 3);
  EXPECT_EQ(q.packed.sizes(), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(q.packed[0][0].item<uint8_t>(), 0x0F);
  EXPECT_EQ(q.packed[1][0].item<uint8_t>(), 0x7D);
  EXPECT_EQ(q.packed[2][0].item<uint8_t>(), 0x77);  // odd count: the pad is the code of 0
  EXPECT_EQ(q.absmax.item<float>(), 1.0f);
  EXPECT_TRUE(at::equal(dequantize_4bit(q), w));
  // FP4: 1.0 -> 0b0011, -1.0 -> 0b1011, 8/12 -> 0b0010.
  at::Tensor f = at::tensor({1.0f, -1.0f, 8.0f / 12.0f, -8.0f / 12.0f}, at::kFloat).view({2, 2});
  Quantized4bit qf = quantize_4bit(f, Quant4Type::FP4, 32);
  EXPECT_EQ(qf.packed[0][0].item<uint8_t>(), 0x3B);
  EXPECT_EQ(qf.packed[1][0].item<uint8_t>(), 0x2A);
}

TEST(QuantPacking, AbsmaxPerBlockOverFlattenedRows) {
  // Block boundaries cross rows: blocksize 32 over a [3, 24] weight.
  at::Tensor w = at::arange(72, at::kFloat).view({3, 24}) - 10;
  Quantized4bit q = quantize_4bit(w, Quant4Type::NF4, 32);
  ASSERT_EQ(q.absmax.numel(), 3);
  EXPECT_EQ(q.absmax[0].item<float>(), 21.0f);  // elements 0..31 -> -10..21
  EXPECT_EQ(q.absmax[1].item<float>(), 53.0f);
  EXPECT_EQ(q.absmax[2].item<float>(), 61.0f);  // the partial last block, 64..71 -> 54..61
}

TEST(QuantCodec, RoundTripWithinBoundOverShapesDtypesBlocksizes) {
  at::manual_seed(7);
  const std::vector<std::vector<int64_t>> shapes = {{1, 1}, {7, 9}, {33, 130}, {96, 40}};
  for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf})
    for (auto type : {Quant4Type::NF4, Quant4Type::FP4})
      for (int64_t bs : {32, 64, 256, 4096})
        for (bool dq : {false, true})
          for (const auto& shape : shapes) {
            at::Tensor w = (at::randn(shape) * 0.3).to(dtype);
            Quantized4bit q = quantize_4bit(w, type, bs, dq);
            at::Tensor d = dequantize_4bit(q, at::kFloat);
            ASSERT_EQ(d.sizes(), w.sizes());
            at::Tensor wf = w.to(at::kFloat).reshape({-1});
            const int64_t n = wf.numel();
            at::Tensor scales = q.block_scales().repeat_interleave(bs).slice(0, 0, n);
            // Rounding to the nearest code, plus the 8-bit error of the scale itself when nested.
            const double slack = dq ? 0.02 : 1e-6;
            at::Tensor bound = scales.abs() * (max_half_gap(type) + 1e-6) + (wf.abs() + scales.abs()) * slack + 1e-7;
            at::Tensor err = (d.reshape({-1}) - wf).abs();
            EXPECT_TRUE((err <= bound).all().item<bool>())
                << "dtype " << c10::toString(dtype) << " type " << quant4_type_name(type) << " bs " << bs
                << " dq " << dq << " shape " << shape[0] << "x" << shape[1] << " worst excess "
                << (err - bound).max().item<double>();
          }
}

// The CPU dequantisation loop equals the ATen reference bit for bit: NF4 and FP4, nested and
// not, sizes that end mid-block and mid-byte, every output dtype.
TEST(QuantCodec, CpuDequantLoopEqualsTheAtenReference) {
  at::manual_seed(9);
  for (auto type : {axl::quant::Quant4Type::NF4, axl::quant::Quant4Type::FP4})
    for (bool nested : {false, true})
      for (int64_t blocksize : {64, 128})
        for (std::vector<int64_t> shape : {std::vector<int64_t>{48, 96}, std::vector<int64_t>{37, 33}}) {
          const auto q = axl::quant::quantize_4bit(at::randn(shape) * 3, type, blocksize, nested);
          for (auto dt : {at::kFloat, at::kBFloat16, at::kHalf, at::kDouble}) {
            at::Tensor fast = at::empty(shape, at::TensorOptions().dtype(dt)), ref = at::empty_like(fast);
            axl::quant::dequantize_4bit_into(q, fast);
            axl::quant::dequantize_4bit_reference_into(q, ref);
            EXPECT_TRUE(at::equal(fast, ref)) << c10::toString(dt) << " nested " << nested << " blocksize " << blocksize
                                              << " numel " << q.numel();
          }
        }
}

TEST(QuantCodec, DoubleQuantShrinksScaleStorage) {
  at::manual_seed(3);
  at::Tensor w = at::randn({512, 512});
  Quantized4bit plain = quantize_4bit(w, Quant4Type::NF4, 64, false);
  Quantized4bit nested = quantize_4bit(w, Quant4Type::NF4, 64, true);
  const double n = static_cast<double>(w.numel());
  EXPECT_NEAR(plain.storage_bytes() / n, 0.5 + 4.0 / 64, 0.001);
  // 0.5 byte codes + 1 byte per 64 weights + float32 per 256 blocks (+ tables).
  EXPECT_NEAR(nested.storage_bytes() / n, 0.5 + 1.0 / 64 + 4.0 / (64 * 256), 0.005);
  EXPECT_LT(nested.storage_bytes(), plain.storage_bytes());
  // Decoded scales are close to the exact ones.
  EXPECT_LT((nested.block_scales() - plain.absmax).abs().max().item<double>(), 0.01 * plain.absmax.max().item<double>());
}

TEST(QuantCodec, BadInputIsAnError) {
  at::Tensor w = at::randn({4, 4});
  EXPECT_THROW(quantize_4bit(w, Quant4Type::NF4, 48), axl::Error);
  EXPECT_THROW(quantize_4bit(w, Quant4Type::NF4, 8192), axl::Error);
  EXPECT_THROW(quantize_4bit(w.to(at::kInt), Quant4Type::NF4, 64), axl::Error);
  EXPECT_THROW(parse_quant4_type("int4"), axl::Error);
  EXPECT_THROW(quantize_int8_rowwise(at::randn({4})), axl::Error);
  Quantized4bit q = quantize_4bit(w, Quant4Type::NF4, 64);
  q.absmax = at::zeros({3}, at::kFloat);
  EXPECT_THROW(validate_quantized_4bit(q, "w"), axl::Error);
}

TEST(QuantInt8, RowwiseRoundTripWithinHalfStep) {
  at::manual_seed(11);
  for (auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    at::Tensor w = (at::randn({37, 53}) * 0.1).to(dtype);
    w[3].zero_();
    Int8Rowwise q = quantize_int8_rowwise(w);
    EXPECT_EQ(q.codes.scalar_type(), at::kChar);
    EXPECT_EQ(std::get<0>(q.codes.abs().max(1))[0].item<int>(), 127);  // the row's absmax maps to 127
    EXPECT_EQ(q.codes[3].abs().sum().item<int>(), 0);
    at::Tensor d = dequantize_int8_rowwise(q);
    at::Tensor bound = q.row_absmax.view({-1, 1}) / 127.0 * 0.5 + 1e-6;
    EXPECT_TRUE(((d - w.to(at::kFloat)).abs() <= bound).all().item<bool>()) << c10::toString(dtype);
  }
}

TEST(QuantBlockwise8bit, NearestCodeAndScale) {
  at::Tensor a = at::tensor({0.5f, -1.0f, 0.25f, 0.0f, 2.0f}, at::kFloat);
  Blockwise8bit q = quantize_blockwise_8bit(a, 4);
  EXPECT_EQ(q.absmax[0].item<float>(), 1.0f);
  EXPECT_EQ(q.absmax[1].item<float>(), 2.0f);
  at::Tensor d = dequantize_blockwise_8bit(q.codes, q.absmax, q.code, 4);
  EXPECT_EQ(q.codes[4].item<uint8_t>(), 255);  // 2/2 = 1.0 is the top code
  EXPECT_EQ(d[3].item<float>(), 0.0f);
  EXPECT_LT((d - a).abs().max().item<float>(), 0.01f);
}

// The error table the issue asks for: max / mean abs error on N(0, 1) weights.
TEST(QuantCodec, ErrorTableOnStandardNormal) {
  at::manual_seed(0);
  at::Tensor w = at::randn({256, 1024});
  for (auto type : {Quant4Type::NF4, Quant4Type::FP4})
    for (int64_t bs : {32, 64, 128, 256, 1024, 4096})
      for (bool dq : {false, true}) {
        Quantized4bit q = quantize_4bit(w, type, bs, dq);
        at::Tensor err = (dequantize_4bit(q) - w).abs();
        const double mean = err.mean().item<double>(), mx = err.max().item<double>();
        std::printf("{\"codec\":\"%s\",\"blocksize\":%lld,\"double_quant\":%s,\"max_abs_err\":%.5f,"
                    "\"mean_abs_err\":%.5f,\"bytes_per_param\":%.5f}\n",
                    quant4_type_name(type).c_str(), static_cast<long long>(bs), dq ? "true" : "false", mx, mean,
                    static_cast<double>(q.storage_bytes()) / static_cast<double>(w.numel()));
        // NF4 suits normal weights better than FP4; errors grow with the block.
        EXPECT_LT(mean, type == Quant4Type::NF4 ? 0.12 : 0.16);
      }
  Int8Rowwise q8 = quantize_int8_rowwise(w);
  at::Tensor e8 = (dequantize_int8_rowwise(q8) - w).abs();
  std::printf("{\"codec\":\"int8_rowwise\",\"max_abs_err\":%.5f,\"mean_abs_err\":%.5f,\"bytes_per_param\":%.5f}\n",
              e8.max().item<double>(), e8.mean().item<double>(),
              static_cast<double>(q8.storage_bytes()) / static_cast<double>(w.numel()));
  EXPECT_LT(e8.mean().item<double>(), 0.01);
  // NF4 at 64 beats FP4 at 64 on normal data.
  at::Tensor e_nf4 = (dequantize_4bit(quantize_4bit(w, Quant4Type::NF4, 64)) - w).abs();
  at::Tensor e_fp4 = (dequantize_4bit(quantize_4bit(w, Quant4Type::FP4, 64)) - w).abs();
  EXPECT_LT(e_nf4.mean().item<double>(), e_fp4.mean().item<double>());
}
