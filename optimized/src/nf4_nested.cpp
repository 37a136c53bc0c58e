#include "nf4_nested.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "lowbit/formats/nf4.hpp"

namespace lowbit::detail {
namespace {

// The reference (reference/src/nf4.cpp nearest_even) codes a as c = #{k : mid_k * scale < x}, x = 2a
// and mid_k = map[k] + map[k+1] exactly, then moves an odd c up on an exact tie mid_c * scale = x.
// Here mid_k * scale is hi[k+1] + lo[k+1] exactly (|lo| <= half an ulp of hi): both products are
// exact in double (24 x 24 significant bits, none below 2^-298) and Knuth's TwoSum of them is
// error-free; so hi < x, or hi == x and lo < 0, is mid_k * scale < x exactly. Entries 0 and 256 are
// -Inf and +Inf: below one, above the other. c is the exact count where below(c - 1) and not below(c).
class Thresholds {
 public:
  void scale_by(std::span<const float, 256> map, double scale) {
    for (int k = 0; k < 255; ++k) {
      const double p = static_cast<double>(map[k]) * scale, q = static_cast<double>(map[k + 1]) * scale;
      const double s = p + q, qq = s - p, pp = s - qq;
      hi_[k + 1] = s;
      lo_[k + 1] = (p - pp) + (q - qq);
    }
  }
  // From a guess c (0..255) usually one short of the count or at it; else step by step.
  std::uint8_t code(int c, double x) const {
    c += below(c, x);
    if (below(c, x) || !below(c - 1, x)) [[unlikely]] {
      while (below(c, x)) ++c;
      while (!below(c - 1, x)) --c;
    }
    const bool odd_tie = (hi_[c + 1] == x) & (lo_[c + 1] == 0) & (c % 2 == 1);
    return static_cast<std::uint8_t>(c + odd_tie);
  }

 private:
  bool below(int k, double x) const { return (hi_[k + 1] < x) | ((hi_[k + 1] == x) & (lo_[k + 1] < 0)); }
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  std::array<double, 257> hi_ = [] { std::array<double, 257> h{}; h[0] = -kInf; h[256] = kInf; return h; }();
  std::array<double, 257> lo_{};
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
  static int index(float r) {  // non-decreasing in r
    const std::uint32_t u = std::bit_cast<std::uint32_t>(r);
    const int key = std::clamp(static_cast<int>((u >> 16) & 0x7FFF) - kLow, 0, kCells - 1);
    return u >> 31 ? kCells - 1 - key : kCells + key;
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
      a[i] = absmax[start + i] - offset;
      special |= !std::isfinite(a[i]);
      if (std::isfinite(a[i])) m = std::max(m, std::fabs(a[i]));
    }
    nested_absmax[b] = special ? std::numeric_limits<float>::quiet_NaN() : m;
    std::uint8_t* c = codes.data() + start;
    if (special) {
      std::fill(c, c + len, std::uint8_t{0});
      continue;
    }
    // m = 0: every a is +-0 and the reference compares 0 with the unscaled midpoints.
    const double scale = m == 0 ? 1.0 : m, inverse = 1 / scale, twice = m == 0 ? 0.0 : 2.0;
    t.scale_by(map, scale);
    for (std::size_t i = 0; i < len; ++i) {
      const double x = static_cast<double>(a[i]);
      c[i] = t.code(guess[static_cast<float>(x * inverse)], twice * x);
    }
  }
}

}  // namespace lowbit::detail
