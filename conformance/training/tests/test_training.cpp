// The training layers (conformance/training): direct unit tests (the validations and their negative
// controls: test_validation_controls.cpp).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "lowbit/fp8.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"
#include "lowbit/training/layers.hpp"
#include "lowbit/training/validation.hpp"

namespace lowbit::training {
namespace {

bool same_bits(const Matrix& a, const Matrix& b) {
  if (a.rows != b.rows || a.cols != b.cols) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint32_t>(a.v[i]) != std::bit_cast<std::uint32_t>(b.v[i])) return false;
  return true;
}

// ---- qmatmul ----------------------------------------------------------------------------------------

TEST(TrainQmatmul, F32IsMatmulNt) {
  const Matrix a = gaussian(5, 7, 1.0f, 1), b = gaussian(3, 7, 1.0f, 2);
  EXPECT_TRUE(same_bits(qmatmul(a, OperandFormat::f32(), b, OperandFormat::f32()), matmul_nt(a, b)));
  EXPECT_TRUE(same_bits(quantize_rows(a, OperandFormat::f32()), a));
}

TEST(TrainQmatmul, GseOffsetFollowsTheAmax) {
  const Matrix g = gaussian(4, 40, 1e-7f, 3);
  float amax = 0;
  for (float v : g.v) amax = std::max(amax, std::fabs(v));
  const gse::Format f = gse_format(OperandFormat::gse(8), g);
  EXPECT_EQ(f.exp_offset, std::ilogb(amax) - 15);
  EXPECT_EQ(f.group, 32);
  EXPECT_EQ(gse_format(OperandFormat::gse(8), Matrix(2, 2)).exp_offset, 0);
  // With the offset, gradients this small keep their groups in range.
  QuantStats s;
  const Matrix q = quantize_rows(g, OperandFormat::gse(8), 0, &s);
  EXPECT_EQ(s.values, g.size());
  EXPECT_EQ(s.groups, 4u * 2);  // 40 columns: a full and a short group per row
  EXPECT_EQ(s.exp_underflow, 0u);
  EXPECT_LT(relative_error(q, g), 1.0 / 64);
  // Quantizing again along the same rows changes nothing: the values are on the grid.
  EXPECT_TRUE(same_bits(quantize_rows(q, OperandFormat::gse(8)), q));
}

TEST(TrainQmatmul, Fp8ScaleIsThePowerOfTwoFromTheAmax) {
  Matrix a = gaussian(6, 20, 3e-5f, 4);
  a(2, 3) = 1.7e-4f;  // the amax: 1.7e-4 / 448 lies in (2^-22, 2^-21]
  const Matrix q = quantize_rows(a, OperandFormat::e4m3());
  const int k = -21;
  fp8::Options o;
  o.profile = fp8::profile("ml_dtypes-sat");
  for (float v : q.v) {  // every value is an E4M3 value times 2^k
    const float scaled = std::ldexp(v, -k);
    std::uint8_t code;
    float back;
    encode(std::span(&scaled, 1), std::span(&code, 1), o);
    decode(std::span<const std::uint8_t>(&code, 1), std::span(&back, 1), o);
    EXPECT_EQ(back, scaled);
    EXPECT_LE(std::fabs(scaled), 448.0f);
  }
  EXPECT_GT(std::fabs(q(2, 3)), std::ldexp(224.0f, k));  // the scale is the smallest that fits
  // The product is the exact sum of the products of the dequantized operands, rounded once to f32:
  // here every partial sum is exact in double (each addition's TwoSum error is asserted 0).
  const Matrix b = gaussian(4, 20, 1.0f, 5), qb = quantize_rows(b, OperandFormat::e5m2());
  const Matrix c = qmatmul(a, OperandFormat::e4m3(), b, OperandFormat::e5m2());
  for (std::size_t i = 0; i < c.rows; ++i)
    for (std::size_t j = 0; j < c.cols; ++j) {
      double sum = 0;
      for (std::size_t k = 0; k < q.cols; ++k) {
        const double p = static_cast<double>(q(i, k)) * qb(j, k), t = sum + p, bp = t - sum;
        ASSERT_EQ((sum - (t - bp)) + (p - bp), 0.0);
        sum = t;
      }
      EXPECT_EQ(std::bit_cast<std::uint32_t>(c(i, j)), std::bit_cast<std::uint32_t>(static_cast<float>(sum)));
    }
}

TEST(TrainQmatmul, MixedKindsThrow) {
  const Matrix a(2, 4, 1.0f);
  EXPECT_THROW(qmatmul(a, OperandFormat::gse(8), a, OperandFormat::e4m3()), lowbit::Error);
  EXPECT_THROW(qmatmul(a, OperandFormat::f32(), Matrix(2, 3), OperandFormat::f32()), lowbit::Error);
  LoraConfig mixed = lora_config("gsq-4-8-8/8-8-8");
  mixed.lora_grad = OperandFormat::e5m2();
  EXPECT_THROW(LoraLinear(Matrix(4, 8), Matrix(2, 8), Matrix(4, 2), 2.0f, mixed), lowbit::Error);
}

TEST(TrainQmatmul, StochasticRoundingFollowsTheSeed) {
  const Matrix g = gaussian(3, 50, 1e-6f, 6);
  const OperandFormat sr = OperandFormat::gse(5, Rounding::sr);
  EXPECT_TRUE(same_bits(quantize_rows(g, sr, 11), quantize_rows(g, sr, 11)));
  EXPECT_FALSE(same_bits(quantize_rows(g, sr, 11), quantize_rows(g, sr, 12)));
}

// ---- LoraLinear -------------------------------------------------------------------------------------

TEST(TrainLora, Configs) {
  const std::vector<std::string> names{"f32", "qlora", "gsq-4-8-8/8-8-8", "gsq-4-6-6/6-6-6", "gsq-4-5-5/5-5-5", "fp8"};
  EXPECT_EQ(lora_config_names(), names);
  for (const std::string& n : names) EXPECT_EQ(lora_config(n).name, n);
  const LoraConfig g6 = lora_config("gsq-4-6-6/6-6-6", true);
  EXPECT_EQ(g6.base, BaseStorage::nf4_dq);
  EXPECT_EQ(g6.base_act.bits, 6);
  EXPECT_EQ(g6.lora_grad.rounding, Rounding::sr);
  EXPECT_EQ(g6.lora_act.rounding, Rounding::rne);
  const LoraConfig f8 = lora_config("fp8");
  EXPECT_EQ(f8.base_act.fp8, fp8::Format::e4m3);
  EXPECT_EQ(f8.lora_grad.fp8, fp8::Format::e5m2);
  EXPECT_DOUBLE_EQ(g6.base_bits_per_value(), 4 + 8.0 / 64 + 32.0 / (64 * 256));
  EXPECT_DOUBLE_EQ(g6.lora_act.bits_per_value(), 6 + 5.0 / 32);
  EXPECT_THROW(lora_config("gsq-4-7-7/7-7-7"), lowbit::Error);
}

TEST(TrainLora, Nf4BaseIsTheDoubleQuantizedRoundTrip) {
  const Matrix w = gaussian(12, 80, 0.1f, 7);  // 960 values: 15 blocks, crossing rows
  const LoraLinear layer(w, Matrix(2, 80), Matrix(12, 2), 4.0f, lora_config("qlora"));
  std::vector<std::uint8_t> packed(w.size() / 2);
  std::vector<float> absmax(w.size() / 64), out(w.size());
  nf4::encode(w.v, packed, absmax, {});
  const nf4::DynamicMap map = ref::bnb_dynamic_map();
  const nf4::DoubleQuantized dq = ref::nf4_double_quantize(absmax, nf4::Nested::exact_nearest_even, map);
  ref::nf4_double_dequantize(dq.codes, dq.nested_absmax, dq.offset, map, absmax);
  nf4::decode(packed, absmax, out, {});
  Matrix expected(12, 80);
  expected.v = out;
  EXPECT_TRUE(same_bits(layer.base(), expected));
  EXPECT_TRUE(same_bits(LoraLinear(w, Matrix(2, 80), Matrix(12, 2), 4.0f, lora_config("f32")).base(), w));
}

TEST(TrainLora, F32ForwardAndBackwardAreTheFormulas) {
  const Matrix x = gaussian(5, 16, 1.0f, 8), w = gaussian(6, 16, 0.25f, 9), a = gaussian(3, 16, 0.25f, 10),
               b = gaussian(6, 3, 0.1f, 11), g = gaussian(5, 6, 1e-3f, 12);
  LoraLinear layer(w, a, b, 6.0f, lora_config("f32"));
  EXPECT_EQ(layer.scale(), 2.0f);
  const Matrix h = matmul_nt(x, a);
  EXPECT_TRUE(same_bits(layer.forward(x), add_scaled(matmul_nt(x, w), 2.0f, matmul_nt(h, b))));
  const LoraGrads d = layer.backward(g);
  const Matrix gs = add_scaled(Matrix(5, 6), 2.0f, g);  // 2 g exactly
  const Matrix gh = matmul_nt(gs, transpose(b));
  EXPECT_TRUE(same_bits(d.b, matmul_nt(transpose(gs), transpose(h))));
  EXPECT_TRUE(same_bits(d.a, matmul_nt(transpose(gh), transpose(x))));
  EXPECT_TRUE(same_bits(d.x, add_scaled(matmul_nt(g, transpose(w)), 1.0f, matmul_nt(gh, transpose(a)))));
  EXPECT_EQ(layer.stats().values, 0u);
}

TEST(TrainLora, QuantizedLayerCountsAndSeeds) {
  const Matrix x = gaussian(8, 64, 1.0f, 13), w = gaussian(16, 64, 0.125f, 14), a = gaussian(4, 64, 0.125f, 15),
               b = gaussian(16, 4, 0.05f, 16), g = gaussian(8, 16, 1e-6f, 17);
  LoraLinear layer(w, a, b, 8.0f, lora_config("gsq-4-5-5/5-5-5", true));
  EXPECT_THROW(layer.backward(g), lowbit::Error);  // no forward yet
  layer.forward(x);
  const LoraGrads d1 = layer.backward(g, 1), d1again = layer.backward(g, 1), d2 = layer.backward(g, 2);
  EXPECT_TRUE(same_bits(d1.x, d1again.x) && same_bits(d1.a, d1again.a) && same_bits(d1.b, d1again.b));
  EXPECT_FALSE(same_bits(d1.a, d2.a));
  EXPECT_GT(layer.stats().values, 0u);
  EXPECT_EQ(layer.stats().exp_underflow, 0u);
  EXPECT_THROW(layer.backward(Matrix(8, 15)), lowbit::Error);
}

// ---- WeakColumnLinear -------------------------------------------------------------------------------

TEST(TrainWeak, ForwardAndShapes) {
  const std::vector<std::int32_t> weak{1, 40, 70};
  const qeft::Packed p = qeft_test_layer(16, 128, weak, 18);
  WeakColumnLinear layer(p);
  ASSERT_EQ(layer.k(), 3u);
  ASSERT_EQ(layer.oweight().rows, 16u);
  Matrix w4(16, 128);
  w4.v = ref::qeft_dequantize(p, qeft::Path::nowc);
  const Matrix x = gaussian(4, 128, 1.0f, 19);
  EXPECT_TRUE(same_bits(layer.forward(x), add_scaled(matmul_nt(x, w4), 1.0f, matmul_nt(columns(x, 125, 128), layer.oweight()))));
  const WeakGrads d = layer.backward(gaussian(4, 16, 1e-3f, 20));
  EXPECT_EQ(d.x.rows, 4u);
  EXPECT_EQ(d.x.cols, 128u);
  EXPECT_EQ(d.oweight.rows, 16u);  // OC x k for any OC != IC
  EXPECT_EQ(d.oweight.cols, 3u);
}

// ---- AdamW ------------------------------------------------------------------------------------------

TEST(TrainAdamW, FirstStepMovesByLrTimesSign) {
  Matrix p = gaussian(3, 5, 1.0f, 21);
  const Matrix start = p, g = gaussian(3, 5, 1e-2f, 22);
  AdamState s;
  const AdamW h{.lr = 1e-2f};
  adamw_step(h, p, g, s);
  EXPECT_EQ(s.t, 1u);
  ASSERT_EQ(s.m.size(), p.size());
  for (std::size_t i = 0; i < p.size(); ++i)  // m_hat / sqrt(v_hat) = sign(g), less eps / |g| and a few ulps
    EXPECT_NEAR(p.v[i] - start.v[i], -h.lr * std::copysign(1.0f, g.v[i]), h.lr * (1e-5 + h.eps / std::fabs(g.v[i])));
  Matrix q(1, 2, 1.0f);
  AdamState zero;
  adamw_step({.lr = 0.1f, .weight_decay = 0.5f}, q, Matrix(1, 2), zero);  // decay alone: p -= lr wd p
  EXPECT_FLOAT_EQ(q.v[0], 0.95f);
  EXPECT_THROW(adamw_step(h, p, Matrix(2, 5), s), lowbit::Error);
}

}  // namespace
}  // namespace lowbit::training
