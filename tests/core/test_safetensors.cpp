// safetensors reading and writing, and one test per kind of corrupt file: each must be an
// axl::Error naming the file (and the tensor where there is one), never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "axl/core/error.h"
#include "axl/core/safetensors.h"
#include "tests/fixtures.h"

namespace {

std::string image(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\x01');
}

std::string error_of(const std::string& bytes) {
  try {
    axl::parse_safetensors(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "bad.safetensors");
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, WriteThenReadBack) {
  std::string dir = axl::test::scratch_dir("st_rw");
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<int64_t> b = {7, 8};
  axl::write_safetensors(dir + "/t.safetensors",
                         {{"a", axl::DType::F32, {2, 3}, a.data(), 24}, {"b", axl::DType::I64, {2}, b.data(), 16}},
                         {{"format", "pt"}});
  auto f = axl::SafetensorsFile::open(dir + "/t.safetensors");
  ASSERT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  auto va = f->get("a");
  EXPECT_EQ(va.info->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(va.data, a.data(), 24), 0);
  auto vb = f->get("b");
  EXPECT_EQ(vb.info->dtype, axl::DType::I64);
  // Reference layout: 8-byte aligned header, larger elements first.
  EXPECT_EQ(f->tensors()[0].name, "b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(vb.data) % 8, 0u);
  EXPECT_THROW(f->get("missing"), axl::Error);
}

TEST(Safetensors, ReadsTheFixtureModel) {
  AXL_REQUIRE_FIXTURE(path, "hf-tiny/LlamaForCausalLM/model.safetensors");
  auto f = axl::SafetensorsFile::open(path);
  auto v = f->get("model.embed_tokens.weight");
  EXPECT_EQ(v.info->shape, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(v.nbytes, 256u * 64u * 4u);
}

TEST(SafetensorsCorrupt, Truncated) {
  EXPECT_NE(error_of("abc").find("shorter than"), std::string::npos);
}

TEST(SafetensorsCorrupt, HeaderLengthPastEnd) {
  std::string s = image("{}", 0);
  s[0] = static_cast<char>(200);
  EXPECT_NE(error_of(s).find("runs past the end"), std::string::npos);
  std::string huge(8, '\xff');
  EXPECT_NE(error_of(huge).find("runs past the end"), std::string::npos);
}

TEST(SafetensorsCorrupt, InvalidJson) {
  EXPECT_NE(error_of(image("{\"a\": ", 0)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(image("[1, 2]", 0)).find("not a JSON object"), std::string::npos);
}

TEST(SafetensorsCorrupt, OffsetsOutOfRange) {
  std::string e = error_of(image(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8));
  EXPECT_NE(e.find("'w'"), std::string::npos);
  EXPECT_NE(e.find("past the end"), std::string::npos);
  e = error_of(image(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8));
  EXPECT_NE(e.find("begin > end"), std::string::npos);
}

TEST(SafetensorsCorrupt, Overlapping) {
  std::string e = error_of(image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12));
  EXPECT_NE(e.find("overlap"), std::string::npos);
}

TEST(SafetensorsCorrupt, ShapeDtypeSizeMismatch) {
  std::string e = error_of(image(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8));
  EXPECT_NE(e.find("'w'"), std::string::npos);
  EXPECT_NE(e.find("needing 12 bytes"), std::string::npos);
  e = error_of(image(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 8], "data_offsets": [0, 8]}})", 8));
  EXPECT_NE(e.find("impossible"), std::string::npos);
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  std::string e = error_of(image(R"({"w": {"dtype": "F7", "shape": [1], "data_offsets": [0, 1]}})", 1));
  EXPECT_NE(e.find("unsupported dtype 'F7'"), std::string::npos);
}

TEST(SafetensorsCorrupt, MalformedEntries) {
  EXPECT_NE(error_of(image(R"({"w": 3})", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(image(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}})", 0)).find("non-negative"), std::string::npos);
  EXPECT_NE(error_of(image(R"({"w": {"dtype": "F32", "shape": [1]}})", 4)).find("data_offsets"), std::string::npos);
  EXPECT_NE(error_of(image(R"({"__metadata__": {"a": 1}})", 0)).find("__metadata__"), std::string::npos);
}

TEST(SafetensorsCorrupt, TruncatedRealFileNamesTheFile) {
  AXL_REQUIRE_FIXTURE(path, "hf-tiny/LlamaForCausalLM/model.safetensors");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string dir = axl::test::scratch_dir("st_trunc");
  std::string cut = dir + "/cut.safetensors";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  try {
    axl::SafetensorsFile::open(cut);
    FAIL() << "truncated file accepted";
  } catch (const axl::Error& e) {
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
}

TEST(Checkpoint, ShardedIndex) {
  std::string dir = axl::test::scratch_dir("st_sharded");
  float a = 1.5f, b = 2.5f;
  axl::write_safetensors(dir + "/model-00001-of-00002.safetensors", {{"a", axl::DType::F32, {1}, &a, 4}});
  axl::write_safetensors(dir + "/model-00002-of-00002.safetensors", {{"b", axl::DType::F32, {1}, &b, 4}});
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})";
  auto ck = axl::Checkpoint::open(dir);
  EXPECT_EQ(ck.names(), (std::vector<std::string>{"a", "b"}));
  float got;
  std::memcpy(&got, ck.get("b").data, 4);
  EXPECT_EQ(got, 2.5f);
  std::ofstream(dir + "/model.safetensors.index.json") << R"({"weight_map": {"c": "missing.safetensors"}})";
  auto broken = axl::Checkpoint::open(dir);
  EXPECT_THROW(broken.get("c"), axl::Error);
}

}  // namespace
