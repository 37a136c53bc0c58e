// Packed storage of the minifloat codes (docs/formats/fp6-fp4.md, "Packed storage"). Unpacked, a code
// takes one byte (sub-byte codes in the low bits, as ml_dtypes stores them); packed, the codes of a
// stream are one little-endian bit stream: code i occupies stream bits [i*w, i*w + w) (w = the
// format's width), and stream bit k is bit k % 8 of byte k / 8. For FP4 that is CUDA's fp4x2 order
// (__nv_fp4x2_storage_t: element 0 in the low nibble); for FP6, four codes in three bytes, code 0 in
// bits 0-5 of byte 0 (AMD's packed FP6); for the 8-bit formats, one code per byte, unchanged. A
// stream of n codes takes ceil(n*w / 8) bytes: the bits of the last byte past the last code are
// padding and are zero.
#pragma once
#include <cstddef>

#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/sizes.hpp"

namespace lowbit::fp8 {

// The smallest whole number of codes that fills whole bytes: lcm(w, 8) bits.
struct Packing {
  int bits;             // w: bits per code
  int codes_per_group;  // 2 (FP4), 4 (FP6), 1 (8-bit)
  int bytes_per_group;  // 1, 3, 1
};

constexpr Packing packing_of_width(int w) {
  int lcm = w;
  while (lcm % 8) lcm += w;
  return {w, lcm / w, lcm / 8};
}
constexpr Packing packing(Format f) { return packing_of_width(traits(f).width()); }

// ceil(n*w / 8), exact for every n (n*w would wrap near SIZE_MAX).
constexpr std::size_t packed_size(Format f, std::size_t n) {
  const Packing p = packing(f);
  const std::size_t tail = n % static_cast<std::size_t>(p.codes_per_group);
  return n / p.codes_per_group * p.bytes_per_group + ceil_div(tail * p.bits, 8);
}

static_assert(packing(Format::e2m1).codes_per_group == 2 && packing(Format::e2m1).bytes_per_group == 1);
static_assert(packing(Format::e2m3).codes_per_group == 4 && packing(Format::e2m3).bytes_per_group == 3);
static_assert(packing(Format::e4m3).codes_per_group == 1 && packing(Format::e4m3).bytes_per_group == 1);
static_assert(packed_size(Format::e3m2, 5) == 4 && packed_size(Format::e2m1, 3) == 2);

}  // namespace lowbit::fp8
