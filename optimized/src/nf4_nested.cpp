#include "nf4_nested.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>

#include "lowbit/formats/nf4.hpp"

namespace lowbit::detail {
namespace {

// The reference (reference/src/nf4.cpp nearest_even) codes a as c = #{k : a > t_k}, t_k = (map[k] +
// map[k+1]) * scale / 2 exactly, then moves an odd c up on an exact tie a = t_c. With h + l = t_k
// exactly (both products are exact in double: 24 x 24 significant bits, none below 2^-298; Knuth's
// TwoSum of them is error-free; halving is exact) and g the float nearest h, the smallest float above
// t_k is g if g > t_k, else the next float, so a float a is above t_k exactly when a >= that float,
// and equal to it when t_k is a float (g = h, l = 0) and a = g. above_[0] and above_[256] are -Inf
// and +Inf; the count c is where a >= above_[c] and a < above_[c + 1].
class Thresholds {
 public:
  void scale_by(std::span<const float, 256> map, double scale) {
    for (int k = 0; k < 255; ++k) {
      const double p = static_cast<double>(map[k]) * scale, q = static_cast<double>(map[k + 1]) * scale;
      const double s = p + q, qq = s - p, pp = s - qq;
      const double h = s / 2, l = ((p - pp) + (q - qq)) / 2;
      const float g = static_cast<float>(h) + 0.0f;  // -0 -> +0
      const double gd = g;
      const std::uint32_t u = std::bit_cast<std::uint32_t>(g), up = 1u - 2u * (u >> 31);  // +1 ulp toward +Inf
      const bool above = (gd > h) | ((gd == h) & (l < 0)), odd_tie = (gd == h) & (l == 0) & (k % 2 == 1);
      above_[k + 1] = std::bit_cast<float>(u + up * !above);  // branch-free: `above` is as likely as not
      odd_tie_[k + 1] = u | (0u - !odd_tie);                  // kNever unless a tie
    }
  }
  // a: finite, not -0; from a guess c (0..255) at the count or one short; else step by step.
  std::uint8_t code(int c, float a) const {
    c += a >= above_[c + 1];
    if ((a >= above_[c + 1]) | (a < above_[c])) [[unlikely]] {
      while (a >= above_[c + 1]) ++c;
      while (a < above_[c]) --c;
    }
    return static_cast<std::uint8_t>(c + (std::bit_cast<std::uint32_t>(a) == odd_tie_[c + 1]));
  }

 private:
  static constexpr float kInf = std::numeric_limits<float>::infinity();
  static constexpr std::uint32_t kNever = 0xFFFFFFFFu;  // a NaN: no finite a has these bits
  std::array<float, 257> above_ = [] { std::array<float, 257> h{}; h[0] = -kInf; h[256] = kInf; return h; }();
  std::array<std::uint32_t, 257> odd_tie_ = [] { std::array<std::uint32_t, 257> t; t.fill(kNever); return t; }();
};

// The guess: #{k : (map[k] + map[k+1]) / 2 < the lowest value of a cell} for the cell of a / m
// rounded to float, cells being its sign, exponent and 7 leading significand bits (magnitudes below
// 2^-32 share one): the exact count or one short for the dynamic map; any map stays exact.
class Guess {
 public:
  explicit Guess(std::span<const float, 256> map) {
    int c = 0;
    for (int i = 0; i < 2 * kCells; ++i) {
      const float v = lowest(i);
      while (c < 255 && (static_cast<double>(map[c]) + map[c + 1]) / 2 < v) ++c;
      lut_[i] = static_cast<std::uint8_t>(c);
    }
  }
  int operator[](float r) const { return lut_[index(r)]; }

 private:
  static constexpr int kLow = (127 - 32) << 7;          // the exponent and leading bits of 2^-32
  static constexpr int kCells = (127 << 7) - kLow + 1;  // per sign, up to 1.0
  static int index(float r) {  // non-decreasing in r; -key - 1 = ~key
    const std::uint32_t u = std::bit_cast<std::uint32_t>(r);
    const int key = std::clamp(static_cast<int>((u >> 16) & 0x7FFF) - kLow, 0, kCells - 1);
    return kCells + (key ^ (static_cast<std::int32_t>(u) >> 31));
  }
  static float magnitude(int key) { return key == 0 ? 0.0f : std::bit_cast<float>(static_cast<std::uint32_t>(key + kLow) << 16); }
  static float lowest(int i) { return i < kCells ? -magnitude(kCells - i) : magnitude(i - kCells); }
  std::array<std::uint8_t, 2 * kCells> lut_;
};

}  // namespace

void nf4_nested_exact_nearest_even(std::span<const float> absmax, float offset, std::span<const float, 256> map,
                                   std::span<std::uint8_t> codes, std::span<float> nested_absmax) {
  const std::size_t block = nf4::kNestedBlock;
  const Guess guess(map);
  std::array<float, nf4::kNestedBlock> a;
  Thresholds t;
  for (std::size_t b = 0; b * block < absmax.size(); ++b) {
    const std::size_t start = b * block, len = std::min(block, absmax.size() - start);
    float m = 0;
    bool special = false;
    for (std::size_t i = 0; i < len; ++i) {
      a[i] = (absmax[start + i] - offset) + 0.0f;  // -0 -> +0, for the tie's bit compare
      special |= !std::isfinite(a[i]);
      if (std::isfinite(a[i])) m = std::max(m, std::fabs(a[i]));
    }
    nested_absmax[b] = special ? std::numeric_limits<float>::quiet_NaN() : m;
    std::uint8_t* c = codes.data() + start;
    if (special) {
      std::fill(c, c + len, std::uint8_t{0});
      continue;
    }
    // m = 0: every a is +0 and the reference compares 0 with the unscaled midpoints.
    t.scale_by(map, m == 0 ? 1.0 : m);
    const float inverse = static_cast<float>(std::min(1.0 / m, static_cast<double>(FLT_MAX)));  // the guess's only
    for (std::size_t i = 0; i < len; ++i) c[i] = t.code(guess[a[i] * inverse], a[i]);
  }
}

}  // namespace lowbit::detail
