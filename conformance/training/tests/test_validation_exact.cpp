// The exactness and error-bound validations (checks 2 and 3) and the exact fp8 product they rely on.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "lowbit/training/layers.hpp"
#include "lowbit/training/validation.hpp"

namespace lowbit::training {
namespace {

Matrix row(std::initializer_list<float> values) {
  Matrix m(1, values.size());
  m.v.assign(values);
  return m;
}

float fp8_product(const Matrix& a, const Matrix& b) {
  return qmatmul(a, OperandFormat::e5m2(), b, OperandFormat::e5m2())(0, 0);
}

TEST(TrainQmatmul, Fp8ProductIsExact) {
  // 1 + 2^-24 - 1: fp32 accumulation loses the 2^-24 (1 + 2^-24 rounds to 1), the exact sum keeps it.
  const Matrix a = row({1.0f, 0x1p-24f, -1.0f}), ones = row({1.0f, 1.0f, 1.0f});
  EXPECT_EQ(matmul_nt(quantize_rows(a, OperandFormat::e5m2()), quantize_rows(ones, OperandFormat::e5m2()))(0, 0), 0.0f);
  EXPECT_EQ(fp8_product(a, ones), 0x1p-24f);
  // Exact cancellation is +0.
  EXPECT_EQ(std::bit_cast<std::uint32_t>(fp8_product(row({1.0f, -1.0f}), row({1.0f, 1.0f}))), 0u);
  // One rounding into f32's subnormals: 1.5 2^-130 * 2^-20 = 0.75 2^-149 rounds to 2^-149, 2^-150 (a tie) to +0.
  EXPECT_EQ(fp8_product(row({0x1.8p-130f}), row({0x1p-20f})), 0x1p-149f);
  EXPECT_EQ(fp8_product(row({0x1p-130f}), row({0x1p-20f})), 0.0f);
  // Beyond f32's range: Inf of the product's sign.
  EXPECT_EQ(fp8_product(row({0x1p100f}), row({-0x1p100f})), -std::numeric_limits<float>::infinity());
  // A NaN or Inf factor gives the IEEE result: NaN, the Inf, NaN for Inf - Inf.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(fp8_product(row({1.0f, nan}), row({1.0f, 1.0f}))));
  EXPECT_EQ(fp8_product(row({1.0f, inf}), row({1.0f, 2.0f})), inf);
  EXPECT_TRUE(std::isnan(fp8_product(row({inf, inf}), row({1.0f, -1.0f}))));
}

}  // namespace
}  // namespace lowbit::training
