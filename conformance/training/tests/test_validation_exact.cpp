// The exactness and error-bound validations (checks 2 and 3) and the exact fp8 product they rely on.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

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

const Validation& validation(std::string_view name) {
  for (const Validation& v : validations())
    if (v.name == name) return v;
  throw std::runtime_error("no validation " + std::string(name));
}

// Each listed mutant is caught: `failing(m)` of its results fail, the same results as without a mutant.
template <class Failing> void expect_caught(std::string_view name, Failing failing) {
  const Validation& v = validation(name);
  const std::size_t results = v.run(Mutant::none).size();
  ASSERT_FALSE(v.mutants.empty());
  for (Mutant m : v.mutants) {
    std::size_t failed = 0;
    const std::vector<ValidationResult> r = v.run(m);
    for (const ValidationResult& x : r) failed += !x.passed;
    EXPECT_EQ(r.size(), results) << mutant_name(m);
    EXPECT_GT(failed, 0u) << mutant_name(m);
    EXPECT_EQ(failed, failing(m)) << mutant_name(m);
  }
}

// The three GSE configurations and FP8, rne and sr (TrainValidation.QuantizedBackwardIsExact: all pass).
TEST(TrainValidationExact, QuantizedBackwardCoversFp8) {
  const std::vector<ValidationResult> r = validation("quantized-backward").run(Mutant::none);
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[6].config, "fp8");
  EXPECT_EQ(r[7].config, "fp8 sr");
}

TEST(TrainValidationExact, QuantizedBackwardCatchesItsMutants) {
  expect_caught("quantized-backward", [](Mutant m) -> std::size_t {
    switch (m) {
      case Mutant::off_by_one_group: return 6;  // the GSE configurations: fp8 has no groups
      case Mutant::fp32_accumulation:            // the inputs make fp32 accumulation differ everywhere
      case Mutant::skipped_gradient_quantization:
      case Mutant::nan_gradient: return 8;
      default: return 0;
    }
  });
}

TEST(TrainValidationExact, QuantizationErrorCatchesItsMutants) {
  expect_caught("quantization-error", [](Mutant m) -> std::size_t {
    switch (m) {
      case Mutant::unquantized: return 25;        // every converse: nothing differs from f32
      case Mutant::nan_gradient: return 9 + 8;    // every dB bound and dB converse
      case Mutant::dropped_lora_scale: return 3;  // qlora's gradients, whose bound is fp32 rounding and NF4's
                                                  // error; the worst-case bounds of the quantized paths are
                                                  // wider than s = 1 against 1.5
      default: return 0;
    }
  });
}

}  // namespace
}  // namespace lowbit::training
