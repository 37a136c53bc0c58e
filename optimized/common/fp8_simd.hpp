// What every FP8 SIMD kernel derives from its parameters before the loop, so that each ISA's
// loop body is the same short sequence of 32-bit lane operations (docs/formats/fp8.md, "SIMD").
// Encoding works on the f32 bit pattern of the input (f16 and bf16 widen to f32 exactly first).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

#include "lowbit/formats/fp8.hpp"

// Internal linkage: each ISA's translation unit gets its own copy, compiled for that ISA, so the
// linker can never hand an AVX2-compiled copy to code that runs without AVX2.
namespace lowbit::simd {
namespace {

struct Fp8EncodeConstants {
  std::uint32_t man_bits;    // FP8 mantissa bits m
  std::uint32_t drop;        // 23 - m: f32 mantissa bits below FP8's last bit for a normal result
  std::uint32_t min_exp;     // f32 biased exponent of FP8's smallest normal (127 + 1 - bias)
  std::uint32_t max_finite;  // largest finite magnitude code
  std::uint32_t overflow;    // magnitude code of a finite overflow
  std::uint32_t inf;         // magnitude code of +-Inf inputs
  std::uint32_t nan;         // code of NaN inputs, before sign and payload
  std::uint32_t nan_sign;    // 0x80 if a NaN keeps its sign, else 0
  std::uint32_t nan_payload; // 1 if the f32 mantissa bit 21 (the source's second bit) goes to bit 0
  bool nearest;              // rne; otherwise rtz (sr and rna kernels call the reference)
  // The fast path, for blocks whose |x| are all <= max finite (f32 bits <= fast_limit):
  std::uint32_t fast_limit;  // f32 bits of the largest finite FP8 value
  std::uint32_t min_normal;  // f32 bits of FP8's smallest normal; below it the result is subnormal
  std::uint32_t rebias;      // (127 - bias) << m: f32 pattern >> drop, minus this, is the code
  float subnormal_scale;     // 2^(m - emin): |x| times this, rounded to an integer, is the code
};

// The f32 bit pattern of the largest finite value of an FP8 format.
constexpr std::uint32_t max_finite_f32_bits(const fp8::Traits& t) {
  const int m = t.layout.man_bits;
  const int e = t.max_finite >> m, man = t.max_finite & ((1 << m) - 1);
  return static_cast<std::uint32_t>(((e - t.layout.bias() + 127) << 23) | (man << (23 - m)));
}

constexpr Fp8EncodeConstants encode_constants(const fp8::EncodeParams& p) {
  const fp8::Traits& t = traits(p.format);
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const std::uint32_t special = t.has_inf ? t.inf : t.canonical_nan;
  const bool payload = p.nan == fp8::NanEncode::keep_sign_payload && t.has_inf;
  return {m,
          23 - m,
          static_cast<std::uint32_t>(127 + t.layout.emin()),
          t.max_finite,
          p.saturate_finite || p.rounding == Rounding::rtz ? t.max_finite : special,
          p.saturate_inf ? t.max_finite : special,
          p.nan == fp8::NanEncode::positive_ones ? 0x7Fu : payload ? 0x7Eu : t.canonical_nan,
          p.nan == fp8::NanEncode::positive_ones ? 0u : 0x80u,
          payload ? 1u : 0u,
          p.rounding == Rounding::rne,
          max_finite_f32_bits(t),
          static_cast<std::uint32_t>(127 + t.layout.emin()) << 23,
          static_cast<std::uint32_t>(127 - t.layout.bias()) << m,
          std::bit_cast<float>(static_cast<std::uint32_t>(127 + static_cast<int>(m) - t.layout.emin()) << 23)};
}

struct Fp8DecodeConstants {
  std::uint32_t man_bits;    // m
  std::uint32_t exp_shift;   // 23 - m: moves the FP8 exponent+mantissa to the f32 fields
  std::uint32_t rebias;      // (127 - bias) << 23
  float subnormal_scale;     // 2^(1 - bias - m): value of mantissa 1 with exponent field 0
  std::uint32_t inf;         // magnitude code of Inf, or 0x100 (never matches) for E4M3
  std::uint32_t nan_above;   // magnitude codes above this are NaN (0x7E E4M3, 0x7C E5M2)
  std::uint32_t nan_bits;    // f32 bits of a decoded NaN, before its sign
  std::uint32_t nan_sign;    // 0x80000000 if a NaN keeps its sign, else 0
};

inline Fp8DecodeConstants decode_constants(const fp8::DecodeParams& p) {
  const fp8::Traits& t = traits(p.format);
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const bool cuda = p.nan == fp8::NanDecode::cuda;
  return {m,
          23 - m,
          static_cast<std::uint32_t>(127 - t.layout.bias()) << 23,
          std::ldexp(1.0f, t.layout.emin() - static_cast<int>(m)),
          t.has_inf ? t.inf : 0x100u,
          t.has_inf ? t.inf : t.max_finite,
          cuda ? 0x7FFFE000u : 0x7FC00000u,
          cuda ? 0u : 0x80000000u};
}

}  // namespace
}  // namespace lowbit::simd
