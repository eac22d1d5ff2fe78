// Our codes and scales against bitsandbytes' own CPU path on the same tensors
// (tests/peers/quant_reference.py): bit-identical packed codes, absmax, nested state, maps.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>

#include "axl/core/json_file.h"
#include "axl/core/tensor_io.h"
#include "axl/quant/blockwise_4bit.h"
#include "axl/quant/code_tables.h"
#include "axl/quant/int8_rowwise.h"
#include "tests/quant/peer_refs.h"

using namespace axl::quant;

namespace {

// Exact equality, reporting how many elements differ.
::testing::AssertionResult same(const at::Tensor& ours, const at::Tensor& theirs) {
  if (ours.sizes() != theirs.sizes())
    return ::testing::AssertionFailure() << "shape " << ours.sizes() << " vs " << theirs.sizes();
  at::Tensor a = ours.contiguous(), b = theirs.to(ours.scalar_type()).contiguous();
  if (at::equal(a, b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << (a != b).sum().item<int64_t>() << " of " << a.numel() << " elements differ";
}

// The 8-bit codes of double-quantised block scales: bitsandbytes' CPU search (BinSearch's
// Direct2 lookup) sometimes keeps the second-nearest code. Ours must equal it elsewhere, and
// where they differ be one code apart and at least as near to the value.
::testing::AssertionResult nested_codes_agree(const Quantized4bit& q, const at::Tensor& theirs, const at::Tensor& plain_absmax) {
  at::Tensor ours = q.absmax.to(at::kLong), their = theirs.to(at::kLong);
  at::Tensor diff = (ours != their).nonzero().view({-1});
  const int64_t n = ours.numel(), bad = diff.numel();
  if (bad * 100 > n + 100) return ::testing::AssertionFailure() << bad << " of " << n << " codes differ";
  at::Tensor x = plain_absmax - q.offset;
  for (int64_t j = 0; j < bad; ++j) {
    const int64_t i = diff[j].item<int64_t>();
    const float m = q.nested_absmax[i / q.nested_blocksize].item<float>();
    const float v = x[i].item<float>() / m;
    const int64_t a = ours[i].item<int64_t>(), b = their[i].item<int64_t>();
    const float da = std::fabs(v - q.nested_code[a].item<float>()), db = std::fabs(v - q.nested_code[b].item<float>());
    if (std::abs(a - b) != 1 || da > db)
      return ::testing::AssertionFailure() << "code " << i << ": ours " << a << " (dist " << da << "), theirs " << b
                                           << " (dist " << db << ")";
  }
  return ::testing::AssertionSuccess() << bad << " of " << n;
}

}  // namespace

TEST(QuantPeer, CodeTablesMatchBitsandbytes) {
  AXL_REQUIRE_QUANT_PEER(dir);
  auto t = axl::load_safetensors(dir + "/codec_cases.safetensors");
  EXPECT_TRUE(same(code_table_4bit(Quant4Type::NF4), t.at("table.nf4")));
  EXPECT_TRUE(same(code_table_4bit(Quant4Type::FP4), t.at("table.fp4")));
  EXPECT_TRUE(same(dynamic_map_8bit(), t.at("table.dynamic")));
}

TEST(QuantPeer, FourBitCodesAndScalesBitIdentical) {
  AXL_REQUIRE_QUANT_PEER(dir);
  auto t = axl::load_safetensors(dir + "/codec_cases.safetensors");
  nlohmann::json cases = axl::read_json_file(dir + "/codec_cases.json");
  ASSERT_GE(cases.size(), 80u);
  int checked = 0, nested = 0;
  int64_t nested_mismatches = 0, nested_codes = 0;
  for (const auto& c : cases) {
    const std::string key = c["key"];
    SCOPED_TRACE(key);
    const at::Tensor input = t.at(c["input"].get<std::string>());
    Quantized4bit q = quantize_4bit(input, parse_quant4_type(c["quant_type"]), c["blocksize"].get<int64_t>(),
                                    c["double_quant"].get<bool>());
    EXPECT_TRUE(same(q.packed, t.at(key + ".packed")));
    EXPECT_TRUE(same(q.code, t.at(key + ".quant_map")));
    if (!q.nested) {
      EXPECT_TRUE(same(q.absmax, t.at(key + ".absmax")));
    } else {
      const std::string plain = key.substr(0, key.size() - 2) + "plain";  // "...dq" -> "...plain"
      EXPECT_TRUE(nested_codes_agree(q, t.at(key + ".absmax"), t.at(plain + ".absmax")));
      nested_mismatches += (q.absmax != t.at(key + ".absmax")).sum().item<int64_t>();
      nested_codes += q.absmax.numel();
      EXPECT_TRUE(same(q.nested_absmax, t.at(key + ".nested_absmax")));
      EXPECT_TRUE(same(q.nested_code, t.at(key + ".nested_quant_map")));
      EXPECT_EQ(q.offset, static_cast<float>(c["offset"].get<double>()));
      ++nested;
    }
    // Our dequantisation equals the format's formula evaluated in PyTorch on bitsandbytes' state.
    Quantized4bit theirs = q;
    theirs.absmax = t.at(key + ".absmax");
    EXPECT_TRUE(same(dequantize_4bit(theirs, at::kFloat), t.at(key + ".dequant").view(input.sizes())));
    ++checked;
  }
  std::printf("{\"nested_8bit_codes_differing_from_bitsandbytes\":%lld,\"of\":%lld}\n",
              static_cast<long long>(nested_mismatches), static_cast<long long>(nested_codes));
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
  EXPECT_GT(nested, 0);
}

TEST(QuantPeer, Int8RowwiseBitIdentical) {
  AXL_REQUIRE_QUANT_PEER(dir);
  auto t = axl::load_safetensors(dir + "/codec_cases.safetensors");
  for (const char* name : {"f32_64x64", "f32_33x17", "bf16_96x128", "f16_40x72", "f32_300x256"}) {
    SCOPED_TRACE(name);
    at::Tensor x = t.at(std::string(name) + ".input");
    Int8Rowwise q = quantize_int8_rowwise(x.reshape({x.size(0), -1}));
    EXPECT_TRUE(same(q.codes, t.at(std::string(name) + ".int8.codes")));
    EXPECT_TRUE(same(q.row_absmax, t.at(std::string(name) + ".int8.scb")));
  }
}
