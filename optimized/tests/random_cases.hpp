// Seeded random inputs shared by the block kernels' tests (NF4, MX, NVFP4): a generator with the draws
// they use, steps along the f32 line, and the special values every block mixes in.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "lowbit/conformance/cases.hpp"

namespace lowbit::test {

inline float f32(std::uint32_t b) { return std::bit_cast<float>(b); }

// ulps steps along the f32 line (through zero), finite in, any out.
inline float step(float x, int ulps) {
  for (; ulps > 0; --ulps) x = std::nextafter(x, INFINITY);
  for (; ulps < 0; ++ulps) x = std::nextafter(x, -INFINITY);
  return x;
}

struct Gen {
  conformance::SplitMix64 rng;
  std::uint64_t next(std::uint64_t n) { return rng.next() % n; }
  int between(int lo, int hi) { return lo + static_cast<int>(next(static_cast<std::uint64_t>(hi - lo + 1))); }
  float sign(float v) { return next(2) ? -v : v; }
  float unit() { return static_cast<float>(rng.next() >> 40) * 0x1p-24f; }  // [0, 1)
};

// NaNs (quiet, signalling, negative, with payloads), +-Inf, +-0, subnormals, the extremes, +-1.
inline float special(Gen& g) {
  static const std::uint32_t kSpecial[] = {
      0x7FC00000, 0xFFC00000, 0x7FC12345, 0x7F800001, 0xFFA00000, 0x7F800000, 0xFF800000, 0x00000000,
      0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x006CE3EE, 0x006CE3ED, 0x006CE3EF, 0x7F7FFFFF,
      0xFF7FFFFF, 0x00800000, 0x3F800000, 0xBF800000};
  return f32(kSpecial[g.next(std::size(kSpecial))]);
}

}  // namespace lowbit::test
