// The NVFP4 reference (docs/formats/nvfp4.md): the page's worked example, zero blocks, tails against
// TransformerEngine's zero padding, NaN/Inf as TE's reference quantizer has them, stochastic rounding
// with given random words, 2-D against 1-D, the swizzled scale layout, and an exact-arithmetic oracle
// (Boost.Multiprecision) for the scale and element roundings of random blocks.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "lowbit/reference/nvfp4.hpp"

namespace {

using namespace lowbit;
using nvfp4::Blocking;
using nvfp4::ScaleLayout;
using Big = boost::multiprecision::cpp_bin_float_50;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();

struct Result {
  std::vector<std::uint8_t> codes, scales;
};

float max_abs(const std::vector<float>& x) {
  float m = 0;
  for (float v : x) m = std::isnan(v) || std::fabs(v) > m ? std::fabs(v) : m;
  return m;
}

Result encode(const std::vector<float>& x, std::size_t rows, std::size_t cols, Blocking b = Blocking::d1,
              ScaleLayout l = ScaleLayout::linear, Rounding r = Rounding::rne, const std::uint32_t* random = nullptr,
              float global_amax = -1) {
  Result out{std::vector<std::uint8_t>(x.size()), std::vector<std::uint8_t>(nvfp4::scale_count(rows, cols, l))};
  const nvfp4::EncodeParams p{rows, cols, b, l, r, global_amax < 0 ? max_abs(x) : global_amax, random};
  ref::nvfp4_encode_ref(x.data(), out.codes.data(), out.scales.data(), &p);
  return out;
}

std::vector<float> decode(const Result& e, std::size_t rows, std::size_t cols, float global_amax,
                          ScaleLayout l = ScaleLayout::linear) {
  std::vector<float> y(e.codes.size());
  const nvfp4::DecodeParams p{rows, cols, l, global_amax};
  ref::nvfp4_decode_ref(e.codes.data(), e.scales.data(), y.data(), &p);
  return y;
}

// docs/formats/nvfp4.md, "A worked example": amax 2688 makes S_enc = 1.
TEST(Nvfp4Reference, WorkedExample) {
  std::vector<float> x(32, 0.0f);
  const std::vector<float> b0{2688, 1120, -1344, 100}, b1{6, 3, 0.75f, -0.25f, 1.25f, 5, -0.1f, -0.0f};
  std::copy(b0.begin(), b0.end(), x.begin());
  std::copy(b1.begin(), b1.end(), x.begin() + 16);
  EXPECT_EQ(ref::nvfp4_global_encode_scale(2688), 1.0f);
  const Result e = encode(x, 1, 32);
  EXPECT_EQ(e.scales, (std::vector<std::uint8_t>{0x7E, 0x38}));  // 448, 1.0
  // 2688 / 448 -> 6.0000005 (saturates), 1120 / 448 -> 2.5 exactly (tie: even 2), -1344 -> -3.0000002 (-3), 100 -> 0.223 (0).
  const std::vector<std::uint8_t> c0{0x7, 0x4, 0xD, 0x0}, c1{0x7, 0x5, 0x2, 0x8, 0x2, 0x6, 0x8, 0x0};
  EXPECT_TRUE(std::equal(c0.begin(), c0.end(), e.codes.begin()));
  EXPECT_TRUE(std::equal(c1.begin(), c1.end(), e.codes.begin() + 16));
  const std::vector<float> y = decode(e, 1, 32, 2688);
  EXPECT_EQ(std::vector<float>(y.begin(), y.begin() + 4), (std::vector<float>{2688, 896, -1344, 0}));
  EXPECT_EQ(std::vector<float>(y.begin() + 16, y.begin() + 24), (std::vector<float>{6, 3, 1, -0.0f, 1, 4, -0.0f, 0}));
  EXPECT_TRUE(std::signbit(y[19]) && !std::signbit(y[23]));  // -0.25 keeps its sign, -0.0 does not (TE's table)
}

TEST(Nvfp4Reference, ZeroBlocksAndZeroTensor) {
  std::vector<float> x(48, 0.0f);
  x[20] = 3;  // block 1 only
  const Result e = encode(x, 1, 48);
  EXPECT_EQ(e.scales[0], 0);
  EXPECT_EQ(e.scales[2], 0);
  EXPECT_EQ(e.codes[0], 0);
  const Result z = encode(std::vector<float>(32, 0.0f), 2, 16);  // amax 0: S_enc = FLT_MAX, all zero
  EXPECT_EQ(ref::nvfp4_global_encode_scale(0), std::numeric_limits<float>::max());
  EXPECT_EQ(z.scales, std::vector<std::uint8_t>(2, 0));
  EXPECT_EQ(z.codes, std::vector<std::uint8_t>(32, 0));
  EXPECT_EQ(decode(z, 2, 16, 0), std::vector<float>(32, 0.0f));
}

// A block whose decode scale rounds to E4M3 zero: its encode scale is FLT_MAX, its codes saturate, and
// it decodes to zeros (TE's reference and kernel alike).
TEST(Nvfp4Reference, UnderflowingBlockScale) {
  std::vector<float> x(32, 0.0f);
  x[0] = 2688;
  x[16] = 1e-4f;
  x[17] = -5e-5f;
  const Result e = encode(x, 1, 32);
  EXPECT_EQ(e.scales[1], 0);
  EXPECT_EQ(e.codes[16], 0x7);
  EXPECT_EQ(e.codes[17], 0xF);
  const std::vector<float> y = decode(e, 1, 32, 2688);
  EXPECT_EQ(y[16], 0.0f);
}

// TE's reference: torch.max and torch.min propagate NaN, so one NaN makes the amax, every scale (0x7F)
// and every element (NaN, which cast_to_fp4x2 writes as code 0) NaN. Inf: S_enc = 1, the block's scale
// 448, the Inf saturates to +-6.
TEST(Nvfp4Reference, NanAndInf) {
  std::vector<float> x(32, 1.0f);
  x[5] = kNan;
  const Result n = encode(x, 1, 32);
  EXPECT_EQ(n.scales, std::vector<std::uint8_t>(2, 0x7F));
  EXPECT_EQ(n.codes, std::vector<std::uint8_t>(32, 0));
  for (float v : decode(n, 1, 32, kNan)) EXPECT_TRUE(std::isnan(v));

  std::vector<float> y(32, 0.0f);
  y[0] = kInf;
  y[1] = -kInf;
  y[2] = 896;  // 896 / 448 = 2
  y[16] = 6;
  EXPECT_EQ(ref::nvfp4_global_encode_scale(kInf), 1.0f);
  const Result i = encode(y, 1, 32);
  EXPECT_EQ(i.scales, (std::vector<std::uint8_t>{0x7E, 0x38}));
  EXPECT_EQ(i.codes[0], 0x7);
  EXPECT_EQ(i.codes[1], 0xF);
  EXPECT_EQ(i.codes[2], 0x4);
  EXPECT_EQ(i.codes[16], 0x7);
}

// TE's extrema test (test_nvfp4_quantization_extrema_versus_reference): a tensor of FLT_MAX gives scale
// 448 (d = 448.00003 clamps) and code 6 everywhere (FLT_MAX * e = 6 exactly).
TEST(Nvfp4Reference, ExtremaAsTeTestsThem) {
  const Result e = encode(std::vector<float>(32, std::numeric_limits<float>::max()), 2, 16);
  EXPECT_EQ(e.scales, std::vector<std::uint8_t>(2, 0x7E));
  EXPECT_EQ(e.codes, std::vector<std::uint8_t>(32, 0x7));
}

// TE's stochastic_round_fp4_e2m1 with 8 bits per element: byte c % 4 of word c / 4. S_enc = 1, the
// block's scale 1.0, so the elements round as they are.
TEST(Nvfp4Reference, StochasticRoundingWithGivenWords) {
  std::vector<float> x{6, 0.3f, 0.3f, 0.3f, 2.5f, 2.5f, 4.5f, 4.5f, -1.2f, 0, 0, 0, -0.0f, 0, 0, 0};
  // 0.3 + u/2 reaches 0.5 from byte 103; 2.5 + u reaches 3 from 128; 4.5 + 2u reaches 6 from 192.
  const std::vector<std::uint32_t> words{0xFF676600, 0xBFC0807F, 0, 0};
  const Result e = encode(x, 1, 16, Blocking::d1, ScaleLayout::linear, Rounding::sr, words.data(), 2688);
  EXPECT_EQ(e.scales[0], 0x38);
  EXPECT_EQ(e.codes, (std::vector<std::uint8_t>{0x7, 0x0, 0x1, 0x1, 0x4, 0x5, 0x7, 0x6, 0xA, 0, 0, 0, 0x8, 0, 0, 0}));
  // sr keeps -0.0's sign (copysign) and sends NaN to +6, as TE's kernel does.
  EXPECT_EQ(ref::nvfp4_element_code(kNan, Rounding::sr, 0), 0x7);
  EXPECT_EQ(ref::nvfp4_element_code(-kInf, Rounding::sr, 0), 0xF);
}

std::vector<float> random_matrix(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exponent(-12, 12);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::ldexp(normal(gen), i % 16 == 0 ? exponent(gen) : 0);
  return x;
}

// Tails: TE pads a matrix with zeros to whole blocks (rows to 16 for 2-D) and drops the padding after.
TEST(Nvfp4Reference, TailsEqualZeroPadding) {
  for (const Blocking b : {Blocking::d1, Blocking::d2}) {
    const std::size_t rows = 20, cols = 20, prows = 32, pcols = 32;
    const std::vector<float> x = random_matrix(rows * cols, 7);
    std::vector<float> padded(prows * pcols, 0.0f);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) padded[r * pcols + c] = x[r * cols + c];
    const Result e = encode(x, rows, cols, b), p = encode(padded, prows, pcols, b);
    ASSERT_EQ(e.scales.size(), rows * 2);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t blk = 0; blk < 2; ++blk) EXPECT_EQ(e.scales[r * 2 + blk], p.scales[r * 2 + blk]);
      for (std::size_t c = 0; c < cols; ++c) EXPECT_EQ(e.codes[r * cols + c], p.codes[r * pcols + c]);
    }
  }
}

// 2-D: every row of a 16x16 tile carries the tile's scale; where each row of a tile holds the tile's
// amax, 1-D finds the same scales and codes.
TEST(Nvfp4Reference, TwoDimensionalSharesTileScales) {
  const std::size_t rows = 32, cols = 48;
  std::vector<float> x = random_matrix(rows * cols, 11);
  const Result d2 = encode(x, rows, cols, Blocking::d2);
  const float s_enc = ref::nvfp4_global_encode_scale(max_abs(x));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t b = 0; b < 3; ++b) {
      float amax = 0;
      for (std::size_t i = r / 16 * 16; i < r / 16 * 16 + 16; ++i)
        for (std::size_t c = b * 16; c < b * 16 + 16; ++c) amax = std::max(amax, std::fabs(x[i * cols + c]));
      const std::uint8_t scale = ref::nvfp4_scale_code(amax, s_enc);
      EXPECT_EQ(d2.scales[r * 3 + b], scale);
      const float enc = ref::nvfp4_encode_scale(scale, s_enc);
      for (std::size_t c = b * 16; c < b * 16 + 16; ++c)
        EXPECT_EQ(d2.codes[r * cols + c], ref::nvfp4_element_code(x[r * cols + c] * enc, Rounding::rne, 0));
      x[r * cols + b * 16] = std::copysign(amax, x[r * cols + b * 16]);  // this row now holds the tile's amax
    }
  const Result d1 = encode(x, rows, cols, Blocking::d1), d2b = encode(x, rows, cols, Blocking::d2);
  EXPECT_EQ(d1.scales, d2b.scales);
  EXPECT_EQ(d1.codes, d2b.codes);
  EXPECT_EQ(d2b.scales, d2.scales);
}

// The swizzle: a bijection into the padded array, TE's unswizzle (reshape to (M/128, N/4, 32, 4, 4),
// permute (0, 3, 2, 1, 4)) inverts it, two indices by hand, and encode in either layout agrees.
TEST(Nvfp4Reference, SwizzledScaleLayout) {
  const std::size_t rows = 130, cols = 80;  // 5 blocks: padded to 256 x 8
  ASSERT_EQ(nvfp4::scale_count(rows, cols, ScaleLayout::swizzled), 256u * 8);
  EXPECT_EQ(nvfp4::scale_index(33, 5, cols, ScaleLayout::swizzled), 512u + 16 + 4 + 1);
  EXPECT_EQ(nvfp4::scale_index(130, 2, cols, ScaleLayout::swizzled), 1024u + 32 + 2);
  std::set<std::size_t> seen;
  for (std::size_t m = 0; m < 256; ++m)
    for (std::size_t k = 0; k < 8; ++k) {
      const std::size_t s = nvfp4::scale_index(m, k, cols, ScaleLayout::swizzled);
      EXPECT_LT(s, 256u * 8);
      seen.insert(s);
      const std::size_t t0 = s / 512, r = s / 16 % 32, i = s / 4 % 4, j = s % 4;  // TE's unswizzle
      EXPECT_EQ((t0 / 2) * 128 + i * 32 + r, m);
      EXPECT_EQ((t0 % 2) * 4 + j, k);
    }
  EXPECT_EQ(seen.size(), 256u * 8);
  const std::vector<float> x = random_matrix(rows * cols, 3);
  const Result lin = encode(x, rows, cols), swz = encode(x, rows, cols, Blocking::d1, ScaleLayout::swizzled);
  EXPECT_EQ(lin.codes, swz.codes);
  std::vector<std::uint8_t> back(swz.scales.size(), 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t b = 0; b < 5; ++b) {
      EXPECT_EQ(swz.scales[nvfp4::scale_index(r, b, cols, ScaleLayout::swizzled)], lin.scales[r * 5 + b]);
      back[nvfp4::scale_index(r, b, cols, ScaleLayout::swizzled)] = 1;
    }
  for (std::size_t i = 0; i < back.size(); ++i)
    if (!back[i]) {
      EXPECT_EQ(swz.scales[i], 0) << "padding at " << i;
    }
  EXPECT_EQ(decode(lin, rows, cols, max_abs(x)), decode(swz, rows, cols, max_abs(x), ScaleLayout::swizzled));
}

// The nearest-even code of y >= 0 among exact values v[0..n) (v ascending), by exact arithmetic.
std::uint8_t nearest_even(const Big& y, const std::vector<Big>& v) {
  if (y >= v.back()) return static_cast<std::uint8_t>(v.size() - 1);
  std::size_t k = 0;
  while (v[k + 1] <= y) ++k;
  const Big frac = (y - v[k]) / (v[k + 1] - v[k]);
  return static_cast<std::uint8_t>(frac > 0.5 || (frac == 0.5 && k % 2 == 1) ? k + 1 : k);
}

// The oracle: exact values of the E4M3 and E2M1 codes; each f32 product rounded by exact comparison.
TEST(Nvfp4Reference, ExactOracleOnRandomBlocks) {
  std::vector<Big> e4m3, e2m1;
  for (int c = 0; c <= 0x7E; ++c) e4m3.push_back(Big(ref::nvfp4_scale_value(static_cast<std::uint8_t>(c))));
  for (int c = 0; c <= 7; ++c) e2m1.push_back(Big(ref::nvfp4_element_value(static_cast<std::uint8_t>(c))));
  const std::size_t rows = 64, cols = 64;
  const std::vector<float> x = random_matrix(rows * cols, 2026);
  const float amax = max_abs(x), s_enc = ref::nvfp4_global_encode_scale(amax);
  const Result e = encode(x, rows, cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t b = 0; b < cols / 16; ++b) {
      float bmax = 0;
      for (std::size_t c = b * 16; c < b * 16 + 16; ++c) bmax = std::max(bmax, std::fabs(x[r * cols + c]));
      const float d = bmax * (s_enc * (1.0f / 6.0f));  // f32 products, as TE computes them
      const std::uint8_t scale = nearest_even(Big(d), e4m3);
      ASSERT_EQ(e.scales[r * 4 + b], scale) << "row " << r << " block " << b;
      const float enc = std::fmin(1.0f / (ref::nvfp4_scale_value(scale) * (1.0f / s_enc)), std::numeric_limits<float>::max());
      for (std::size_t c = b * 16; c < b * 16 + 16; ++c) {
        const float y = x[r * cols + c] * enc;
        const std::uint8_t want = static_cast<std::uint8_t>((y < 0 ? 8 : 0) | nearest_even(abs(Big(y)), e2m1));
        ASSERT_EQ(e.codes[r * cols + c], want) << "x " << x[r * cols + c] << " scaled " << y;
      }
    }
}

}  // namespace
