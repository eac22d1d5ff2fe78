#include <gtest/gtest.h>

#include "axl/core/error.h"
#include "axl/core/tensor_io.h"
#include "tests/fixtures.h"

TEST(TensorIo, RoundTripsEveryDtype) {
  std::string dir = axl::test::scratch_dir("tensor_io");
  std::map<std::string, at::Tensor> t;
  t["f32"] = at::randn({3, 5});
  t["f64"] = at::randn({2}, at::kDouble);
  t["f16"] = at::randn({4, 1}).to(at::kHalf);
  t["bf16"] = at::randn({7}).to(at::kBFloat16);
  t["i64"] = at::arange(10, at::kLong);
  t["i32"] = at::arange(3, at::kInt);
  t["i16"] = at::arange(3, at::kShort);
  t["i8"] = at::arange(-3, 3, at::kChar);
  t["u8"] = at::arange(5, at::kByte);
  t["bool"] = at::arange(4, at::kLong).remainder(2).to(at::kBool);
  t["empty"] = at::empty({0, 3});
  axl::save_safetensors(dir + "/x.safetensors", t, {{"format", "pt"}});
  auto back = axl::load_safetensors(dir + "/x.safetensors");
  ASSERT_EQ(back.size(), t.size());
  for (const auto& [name, value] : t) {
    SCOPED_TRACE(name);
    EXPECT_EQ(back.at(name).scalar_type(), value.scalar_type());
    EXPECT_EQ(back.at(name).sizes(), value.sizes());
    EXPECT_TRUE(at::equal(back.at(name), value));
  }
}

TEST(TensorIo, MappedTensorsOutliveTheirFileObject) {
  std::string dir = axl::test::scratch_dir("tensor_io_life");
  axl::save_safetensors(dir + "/y.safetensors", {{"w", at::arange(6, at::kFloat)}});
  at::Tensor w;
  {
    auto m = axl::load_safetensors(dir + "/y.safetensors");
    w = m.at("w");
  }
  EXPECT_FLOAT_EQ(w.sum().item<float>(), 15.0f);
}
