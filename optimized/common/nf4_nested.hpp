// The lowbit profile's nested quantizer (nf4::Nested::exact_nearest_even), written once over a search
// policy (the nf4 Impl's `nested` slot): the same codes and nested absmax as the reference's exact
// Boost search, bit for bit, without multiprecision. Per nested block, the exact midpoints times the
// block's absmax become float thresholds (NestedThresholds); a code is then a count of float compares,
// started from a per-call guess (NestedGuess). A policy derives from NestedThresholds and provides
//   void block(const float* map, double scale)   the thresholds of a block: the bits scale_by() makes
//   void codes(const NestedGuess&, const float* a, std::size_t len, float inverse, std::uint8_t* out)
// ScalarNested below is the portable one.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "lowbit/formats/nf4.hpp"

// Internal linkage, as in fp8_simd.hpp: each ISA's translation unit gets its own copy.
namespace lowbit::simd {
namespace {

// The reference (reference/src/nf4.cpp nearest_even) codes a as c = #{k : a > t_k}, t_k = (map[k] +
// map[k+1]) * scale / 2 exactly, then moves an odd c up on an exact tie a = t_c. With h + l = t_k
// exactly (both products are exact in double: 24 x 24 significant bits, none below 2^-298; Knuth's
// TwoSum of them is error-free; halving is exact) and g the float nearest h, the smallest float above
// t_k is g if g > t_k, else the next float, so a float a is above t_k exactly when a >= that float,
// and equal to it when t_k is a float (g = h, l = 0) and a = g. above_[0] and above_[256] are -Inf
// and +Inf; the count c is where a >= above_[c] and a < above_[c + 1].
class NestedThresholds {
 public:
  static constexpr std::uint32_t kNever = 0xFFFFFFFFu;  // a NaN: no finite a has these bits

  // map: 256 entries and one more readable (any value: threshold 255 is not kept).
  void scale_by(const float* map, double scale) {
    for (int k = 0; k < 255; ++k) {
      const double p = static_cast<double>(map[k]) * scale, q = static_cast<double>(map[k + 1]) * scale;
      const double s = p + q, qq = s - p, pp = s - qq;
      const double h = s * 0.5, l = ((p - pp) + (q - qq)) * 0.5;
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

 protected:
  static constexpr float kInf = std::numeric_limits<float>::infinity();
  // One +Inf more than the search needs: a vector search reads above_[guess + 2].
  alignas(32) std::array<float, 258> above_ = [] {
    std::array<float, 258> h{};
    h[0] = -kInf;
    h[256] = h[257] = kInf;
    return h;
  }();
  alignas(32) std::array<std::uint32_t, 257> odd_tie_ = [] {
    std::array<std::uint32_t, 257> t;
    t.fill(kNever);
    return t;
  }();
};

// The guess: #{k : (map[k] + map[k+1]) / 2 < the lowest value of a cell} for the cell of a / m
// rounded to float, cells being its sign, exponent and 7 leading significand bits (magnitudes below
// 2^-32 share one): the exact count or one short for the dynamic map; any map stays exact.
class NestedGuess {
 public:
  static constexpr int kLow = (127 - 32) << 7;          // the exponent and leading bits of 2^-32
  static constexpr int kCells = (127 << 7) - kLow + 1;  // per sign, up to 1.0

  explicit NestedGuess(const float* map) {
    int c = 0;
    for (int i = 0; i < 2 * kCells; ++i) {
      const float v = lowest(i);
      while (c < 255 && (static_cast<double>(map[c]) + map[c + 1]) / 2 < v) ++c;
      lut_[i] = static_cast<std::uint8_t>(c);
    }
  }
  int operator[](float r) const { return lut_[index(r)]; }
  // Three readable bytes past the end, for 32-bit gathers.
  const std::uint8_t* table() const { return lut_.data(); }

 private:
  static int index(float r) {  // non-decreasing in r; -key - 1 = ~key
    const std::uint32_t u = std::bit_cast<std::uint32_t>(r);
    const int key = std::clamp(static_cast<int>((u >> 16) & 0x7FFF) - kLow, 0, kCells - 1);
    return kCells + (key ^ (static_cast<std::int32_t>(u) >> 31));
  }
  static float magnitude(int key) { return key == 0 ? 0.0f : std::bit_cast<float>(static_cast<std::uint32_t>(key + kLow) << 16); }
  static float lowest(int i) { return i < kCells ? -magnitude(kCells - i) : magnitude(i - kCells); }
  std::array<std::uint8_t, 2 * kCells + 3> lut_{};
};

struct ScalarNested : NestedThresholds {
  void block(const float* map, double scale) { scale_by(map, scale); }
  void codes(const NestedGuess& guess, const float* a, std::size_t len, float inverse, std::uint8_t* out) const {
    for (std::size_t i = 0; i < len; ++i) out[i] = code(guess[a[i] * inverse], a[i]);
  }
};

// nf4::NestedFn: codes and nested absmax of fl(absmax[i] - offset) in blocks of kNestedBlock (map:
// 256 entries, valid_dynamic_map()).
template <class Search>
void nf4_nested(std::size_t n, const float* absmax, float offset, const float* map_in, std::uint8_t* codes,
                float* nested_absmax) {
  std::array<float, 260> map;  // padded for the thresholds' reads past map[255]
  std::copy_n(map_in, 256, map.begin());
  std::fill(map.begin() + 256, map.end(), map_in[255]);
  const NestedGuess guess(map.data());
  Search search;
  std::array<float, nf4::kNestedBlock> a;
  for (std::size_t start = 0, b = 0; start < n; start += nf4::kNestedBlock, ++b) {
    const std::size_t len = std::min<std::size_t>(nf4::kNestedBlock, n - start);
    std::uint32_t top = 0;  // the largest |a| as bits: beyond FLT_MAX's, an Inf or NaN
    for (std::size_t i = 0; i < len; ++i) {
      a[i] = (absmax[start + i] - offset) + 0.0f;  // -0 -> +0, for the tie's bit compare
      top = std::max(top, std::bit_cast<std::uint32_t>(a[i]) & 0x7FFFFFFFu);
    }
    if (top > std::bit_cast<std::uint32_t>(FLT_MAX)) {
      nested_absmax[b] = std::numeric_limits<float>::quiet_NaN();
      std::fill_n(codes + start, len, std::uint8_t{0});
      continue;
    }
    const float m = std::bit_cast<float>(top);
    nested_absmax[b] = m;
    // m = 0: every a is +0 and the reference compares 0 with the unscaled midpoints.
    search.block(map.data(), m == 0 ? 1.0 : m);
    const float inverse = static_cast<float>(std::min(1.0 / m, static_cast<double>(FLT_MAX)));  // the guess's only
    search.codes(guess, a.data(), len, inverse, codes + start);
  }
}

}  // namespace
}  // namespace lowbit::simd
