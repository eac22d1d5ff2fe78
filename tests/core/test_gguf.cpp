// GGUF reader: a hand-built file read back, and one test per kind of malformed file; each must
// be an axl::Error naming the file and the key or tensor, never a crash or a huge allocation.
#include <gtest/gtest.h>

#include <cstring>

#include "axl/core/error.h"
#include "axl/models/gguf_file.h"
#include "tests/core/gguf_test_util.h"

namespace {

using namespace axl::test::gguf;

std::string error_of(const std::string& bytes) {
  try {
    axl::models::parse_gguf(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "bad.gguf");
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_GGUF_ERROR(bytes, needle)                                   \
  do {                                                                     \
    std::string msg_ = error_of(bytes);                                    \
    EXPECT_NE(msg_.find("bad.gguf"), std::string::npos) << "no error or no file name: " << msg_; \
    EXPECT_NE(msg_.find(needle), std::string::npos) << msg_;               \
  } while (0)

Builder small_valid() {
  Builder b;
  b.kv_str("general.architecture", "llama").kv_u32("x.count", 7);
  b.f32_tensor("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  return b;
}

// ---- reader -------------------------------------------------------------------------------

TEST(GgufFile, ReadsHeaderMetadataAndTensors) {
  Builder b;
  std::string arr;
  put_u32(arr, static_cast<uint32_t>(GgufValueType::STRING));
  put_u64(arr, 3);
  put_str(arr, "a");
  put_str(arr, "");
  put_str(arr, "ccc");
  b.kv_str("general.architecture", "llama").kv_raw("tokens", GgufValueType::ARRAY, arr);
  b.kv_f32("eps", 0.5f).kv_raw("flag", GgufValueType::BOOL, std::string(1, '\1'));
  b.f32_tensor("a", {2, 3}, {1, 2, 3, 4, 5, 6}).f32_tensor("b", {4}, {7, 8, 9, 10});
  std::string path = write_file(axl::test::scratch_dir("gguf_ok"), "ok.gguf", b.build());
  auto f = axl::models::GgufFile::open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->find("tokens")->strs, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f->get_double("eps"), 0.5);
  EXPECT_EQ(f->find("flag")->u64, 1u);
  EXPECT_THROW(f->get_int("eps"), axl::Error);
  EXPECT_THROW(f->get_string("missing"), axl::Error);
  EXPECT_EQ(f->get_int_or("missing", 42), 42);
  const auto& a = f->tensor("a");
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{3, 2}));  // ne reversed
  EXPECT_EQ(a.nbytes, 24u);
  EXPECT_EQ(f->data_start() % 32, 0u);
  float v[4];
  std::memcpy(v, f->tensor_data(f->tensor("b")), 16);
  EXPECT_EQ(v[3], 10.0f);
  EXPECT_THROW(f->tensor("nope"), axl::Error);
}

TEST(GgufFile, RejectsEveryTruncation) {
  std::string good = small_valid().build();
  ASSERT_EQ(error_of(good), "");
  for (std::size_t n = 0; n < good.size(); ++n) {
    // Cutting into the trailing zero padding of the data section leaves a readable file only
    // if the tensor bytes survive; everything shorter must be refused.
    std::string msg = error_of(good.substr(0, n));
    if (n < good.size() - 8) {
      EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << "cut at " << n;
    }
  }
  EXPECT_GGUF_ERROR(good.substr(0, 10), "truncated");
}

TEST(GgufFile, RejectsBadMagic) {
  std::string s = small_valid().build();
  s[0] = 'X';
  EXPECT_GGUF_ERROR(s, "not a GGUF file");
  EXPECT_GGUF_ERROR(std::string("GGU"), "truncated");
}

TEST(GgufFile, RejectsUnsupportedVersions) {
  for (uint32_t v : {1u, 4u, 0x03000000u}) {
    Builder b = small_valid();
    b.version = v;
    EXPECT_GGUF_ERROR(b.build(), v == 0x03000000u ? "big-endian" : "version");
  }
  Builder v2 = small_valid();
  v2.version = 2;
  EXPECT_EQ(error_of(v2.build()), "");
}

TEST(GgufFile, RejectsStringLengthPastEnd) {
  Builder b;
  std::string p;
  put_u64(p, 1ull << 40);  // value string claims a terabyte
  p += "abc";
  b.kv_raw("general.name", GgufValueType::STRING, p);
  EXPECT_GGUF_ERROR(b.build(), "general.name");
  EXPECT_GGUF_ERROR(b.build(), "runs past the end");
  std::string s = "GGUF";  // a key length past the end
  put_u32(s, 3);
  put_u64(s, 0);
  put_u64(s, 1);
  put_u64(s, ~0ull);
  s += std::string(16, 'k');
  EXPECT_GGUF_ERROR(s, "runs past the end");
}

TEST(GgufFile, RejectsAbsurdCounts) {
  std::string s = "GGUF";
  put_u32(s, 3);
  put_u64(s, 0);
  put_u64(s, 1ull << 60);  // metadata entries
  s += std::string(64, '\0');
  EXPECT_GGUF_ERROR(s, "metadata entries");
  s = "GGUF";
  put_u32(s, 3);
  put_u64(s, 1ull << 60);  // tensors
  put_u64(s, 0);
  s += std::string(64, '\0');
  EXPECT_GGUF_ERROR(s, "tensors");
  Builder b;
  std::string arr;
  put_u32(arr, static_cast<uint32_t>(GgufValueType::UINT64));
  put_u64(arr, 1ull << 62);
  b.kv_raw("big.array", GgufValueType::ARRAY, arr);
  EXPECT_GGUF_ERROR(b.build(), "big.array");
  EXPECT_GGUF_ERROR(b.build(), "array elements");
  Builder d;
  d.tensor("huge", {1ull << 40, 1ull << 40}, GgmlType::F32, "");
  EXPECT_GGUF_ERROR(d.build(), "huge");
  Builder e;
  e.tensor("dims5", {1, 1, 1, 1, 1}, GgmlType::F32, std::string(4, '\0'));
  EXPECT_GGUF_ERROR(e.build(), "at most 4");
}

TEST(GgufFile, RejectsUnknownValueTypes) {
  Builder b;
  b.kv_raw("weird.key", static_cast<GgufValueType>(13), std::string(8, '\0'));
  EXPECT_GGUF_ERROR(b.build(), "weird.key");
  EXPECT_GGUF_ERROR(b.build(), "unknown value type 13");
  Builder a;
  std::string arr;
  put_u32(arr, 99);
  put_u64(arr, 1);
  a.kv_raw("weird.array", GgufValueType::ARRAY, arr + std::string(8, '\0'));
  EXPECT_GGUF_ERROR(a.build(), "weird.array");
  Builder n;
  std::string nested;
  put_u32(nested, static_cast<uint32_t>(GgufValueType::ARRAY));
  put_u64(nested, 1);
  n.kv_raw("nested", GgufValueType::ARRAY, nested + std::string(16, '\0'));
  EXPECT_GGUF_ERROR(n.build(), "nested array");
  Builder bad_bool;
  bad_bool.kv_raw("flag", GgufValueType::BOOL, std::string(1, '\7'));
  EXPECT_GGUF_ERROR(bad_bool.build(), "flag");
}

TEST(GgufFile, RejectsTensorDataOutOfRange) {
  Builder b;
  b.f32_tensor("w", {4}, {1, 2, 3, 4});
  std::string s = b.build();
  EXPECT_GGUF_ERROR(s.substr(0, s.size() - 32), "'w'");
  // An offset far past the end of the file.
  std::string infos;
  put_str(infos, "far");
  put_u32(infos, 1);
  put_u64(infos, 4);
  put_u32(infos, 0);
  put_u64(infos, 1ull << 50);
  Builder f;
  f.infos = infos;
  f.n_tensors = 1;
  EXPECT_GGUF_ERROR(f.build(), "'far'");
  EXPECT_GGUF_ERROR(f.build(), "past the end");
  // Misaligned offset.
  infos.clear();
  put_str(infos, "odd");
  put_u32(infos, 1);
  put_u64(infos, 1);
  put_u32(infos, 0);
  put_u64(infos, 4);
  Builder m;
  m.infos = infos;
  m.n_tensors = 1;
  m.data = std::string(64, '\0');
  EXPECT_GGUF_ERROR(m.build(), "not a multiple of the alignment");
}

TEST(GgufFile, RejectsUnknownGgmlTypes) {
  for (uint32_t t : {4u, 31u, 1000u}) {
    Builder b;
    b.tensor("t", {32}, static_cast<GgmlType>(t), std::string(128, '\0'));
    EXPECT_GGUF_ERROR(b.build(), "'t'");
    EXPECT_GGUF_ERROR(b.build(), "unknown ggml type " + std::to_string(t));
  }
  Builder r;  // a Q8_0 row that is not a whole number of 32-element blocks
  r.tensor("rows", {48}, GgmlType::Q8_0, std::string(68, '\0'));
  EXPECT_GGUF_ERROR(r.build(), "block size");
}

TEST(GgufFile, RejectsDuplicatesAndBadAlignment) {
  Builder k;
  k.kv_u32("dup", 1).kv_u32("dup", 2);
  EXPECT_GGUF_ERROR(k.build(), "duplicate metadata key 'dup'");
  Builder t;
  t.f32_tensor("x", {1}, {1}).f32_tensor("x", {1}, {2});
  EXPECT_GGUF_ERROR(t.build(), "duplicate tensor 'x'");
  Builder a;
  a.kv_u32("general.alignment", 48);
  EXPECT_GGUF_ERROR(a.build(), "general.alignment");
}

TEST(GgufFile, OpenNamesTheFile) {
  std::string dir = axl::test::scratch_dir("gguf_open");
  std::string path = write_file(dir, "junk.gguf", "definitely not gguf");
  try {
    axl::models::GgufFile::open(path);
    FAIL() << "no error";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(axl::models::GgufFile::open(dir + "/missing.gguf"), axl::Error);
}

}  // namespace
