// The AVX2 (+ F16C) lane policy of the kernel skeletons in optimized/common/: the vector types,
// loads, stores and lane operations the skeletons are written in, as AVX2 intrinsics. Lanes are
// 32 bits (8 a vector); a batch is K vectors of consecutive elements, loaded or stored together.
// Internal linkage, as every SIMD header (common/blocks.hpp): each AVX2 translation unit compiles
// its own copy with the AVX2 flags.
#pragma once
#include <immintrin.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::avx2 {
namespace {

struct Avx2 {
  static constexpr std::size_t kLanes = 8;
  using U = __m256i;      // 8 x 32-bit integers, signed or unsigned as each operation says
  using F = __m256;       // 8 x f32
  using Count = __m128i;  // one shift count for every lane
  using B = __m256i;      // 32 bytes

  // ---- 32-bit integer lanes
  static U zero() { return _mm256_setzero_si256(); }
  static U splat(std::uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static U load(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(std::int32_t* p, U v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static U and_(U a, U b) { return _mm256_and_si256(a, b); }
  static U or_(U a, U b) { return _mm256_or_si256(a, b); }
  static U xor_(U a, U b) { return _mm256_xor_si256(a, b); }
  static U and_not(U a, U b) { return _mm256_andnot_si256(b, a); }  // a & ~b
  static U add(U a, U b) { return _mm256_add_epi32(a, b); }
  static U sub(U a, U b) { return _mm256_sub_epi32(a, b); }
  static U sub_sat(U a, U b) { return _mm256_sub_epi32(_mm256_max_epu32(a, b), b); }  // unsigned max(a - b, 0)
  static U min_u(U a, U b) { return _mm256_min_epu32(a, b); }
  static U max_u(U a, U b) { return _mm256_max_epu32(a, b); }
  static U min_s(U a, U b) { return _mm256_min_epi32(a, b); }
  static U max_s(U a, U b) { return _mm256_max_epi32(a, b); }
  template <int k> static U shl(U a) { return _mm256_slli_epi32(a, k); }
  template <int k> static U shr(U a) { return _mm256_srli_epi32(a, k); }
  template <int k> static U sra(U a) { return _mm256_srai_epi32(a, k); }
  static Count count(unsigned k) { return _mm_cvtsi32_si128(static_cast<int>(k)); }
  static U shl(U a, Count k) { return _mm256_sll_epi32(a, k); }
  static U shr(U a, Count k) { return _mm256_srl_epi32(a, k); }
  static U shl_v(U a, U k) { return _mm256_sllv_epi32(a, k); }  // lane counts 0..31
  static U shr_v(U a, U k) { return _mm256_srlv_epi32(a, k); }
  static U sra_v(U a, U k) { return _mm256_srav_epi32(a, k); }  // lane counts 0..32
  static U gt(U a, U b) { return _mm256_cmpgt_epi32(a, b); }    // signed; masks are all ones
  static U eq(U a, U b) { return _mm256_cmpeq_epi32(a, b); }
  static U select(U mask, U yes, U no) { return _mm256_blendv_epi8(no, yes, mask); }
  static bool any(U a) { return !_mm256_testz_si256(a, a); }
  static unsigned popcount(U mask) { return static_cast<unsigned>(std::popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(mask))))); }
  static std::uint32_t max_lane(U a) {  // unsigned
    __m128i h = _mm_max_epu32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xB1));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(h));
  }

  // ---- f32 lanes
  static F zero_f() { return _mm256_setzero_ps(); }
  static F splat_f(float v) { return _mm256_set1_ps(v); }
  static F as_f(U a) { return _mm256_castsi256_ps(a); }
  static U as_u(F a) { return _mm256_castps_si256(a); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }
  static U ge(F a, F b) { return as_u(_mm256_cmp_ps(a, b, _CMP_GE_OQ)); }  // false for NaN
  static F to_f(U a) { return _mm256_cvtepi32_ps(a); }                     // signed
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // round(a) as int32 lanes, with the mode's own rounding (not MXCSR's); |a| < 2^31 or the lane
  // is replaced afterwards.
  template <Rounding R> static U round(F a) {
    if constexpr (R == Rounding::rne) return _mm256_cvttps_epi32(_mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    if constexpr (R == Rounding::rtz) return _mm256_cvttps_epi32(a);
    // rna: truncate, then one away from zero where the dropped part (exact: a - trunc(a)) is >= 1/2.
    const __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), rest = _mm256_sub_ps(a, t);
    const __m256i up = as_u(_mm256_cmp_ps(rest, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
    const __m256i down = as_u(_mm256_cmp_ps(rest, _mm256_set1_ps(-0.5f), _CMP_LE_OQ));
    return add(sub(_mm256_cvttps_epi32(t), up), down);
  }
  // Keeps the compiler from fusing the operation that made `a` with the next one (FMA).
  static void keep(F& a) { __asm__("" : "+x"(a)); }

  // ---- loads of 8 elements as f32 (exact), batches
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const f16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load(const bf16* p) {
    return as_f(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
  template <std::size_t K> static void load(const std::uint8_t* p, U (&v)[K]) {  // zero-extended
    for (std::size_t k = 0; k < K; ++k) v[k] = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8 * k)));
  }
  template <std::size_t K> static void load(const std::int8_t* p, U (&v)[K]) {  // sign-extended
    for (std::size_t k = 0; k < K; ++k) v[k] = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8 * k)));
  }
  template <std::size_t K> static void store(float* p, const F (&v)[K]) {
    for (std::size_t k = 0; k < K; ++k) _mm256_storeu_ps(p + 8 * k, v[k]);
  }
  template <std::size_t K> static void store(f16* p, const F (&v)[K]) {  // rounded to nearest even
    for (std::size_t k = 0; k < K; ++k)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 8 * k), _mm256_cvtps_ph(v[k], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  template <std::size_t K> static void store(bf16* p, const F (&v)[K]) {  // truncated: the low 16 bits must be zero
    for (std::size_t k = 0; k < K; k += 2) {
      const __m256i a = _mm256_srli_epi32(as_u(v[k]), 16), b = _mm256_srli_epi32(as_u(v[k + 1]), 16);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 8 * k), _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8));
    }
  }
  // K vectors of lanes in 0..255 (u8) or -128..127 (s8) -> 8K bytes in element order; K = 4 (or 2 for s8).
  static void store(std::uint8_t* p, const U (&v)[4]) {
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(v[0], v[1]), _mm256_packus_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), in_order(bytes));
  }
  static void store(std::int8_t* p, const U (&v)[4]) {
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), in_order(bytes));
  }
  static void store(std::int8_t* p, const U (&v)[2]) {
    const __m256i ab = _mm256_packs_epi32(v[0], v[1]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(in_order(_mm256_packs_epi16(ab, ab))));
  }

  // ---- 16-bit integer lanes (8 a vector)
  using H = __m128i;
  static H load_h(const std::uint16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static H splat_h(std::uint16_t v) { return _mm_set1_epi16(static_cast<short>(v)); }
  static H and_h(H a, H b) { return _mm_and_si128(a, b); }
  static H or_h(H a, H b) { return _mm_or_si128(a, b); }
  static H and_not_h(H a, H b) { return _mm_andnot_si128(b, a); }  // a & ~b
  static H sub_h(H a, H b) { return _mm_sub_epi16(a, b); }
  static H max_h(H a, H b) { return _mm_max_epi16(a, b); }  // lanes below 2^15
  template <int k> static H shr_h(H a) { return _mm_srli_epi16(a, k); }
  static H eq_h(H a, H b) { return _mm_cmpeq_epi16(a, b); }
  static H gt_h(H a, H b) { return _mm_cmpgt_epi16(a, b); }  // signed
  static unsigned mask_h(H mask) { return static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(mask, mask))) & 0xFFu; }  // lane i: bit i

  // ---- bytes: the largest |code| of int8 codes (-128 counts 128)
  static B zero_b() { return _mm256_setzero_si256(); }
  template <std::size_t N> static B max_abs(B acc, const std::int8_t* p) {
    if constexpr (N == 16)
      return _mm256_max_epu8(acc, _mm256_zextsi128_si256(_mm_abs_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
    for (std::size_t j = 0; j < N; j += 32) acc = _mm256_max_epu8(acc, _mm256_abs_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + j))));
    return acc;
  }
  static unsigned max_byte(B a) {
    __m128i h = _mm_max_epu8(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 8));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 4));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 2));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 1));
    return static_cast<unsigned>(_mm_cvtsi128_si32(h)) & 0xFF;
  }

 private:
  // The bytes of packs/packus of four vectors (per 128-bit half: a b c d, 4 bytes each) in element order.
  static __m256i in_order(__m256i bytes) { return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)); }
};

}  // namespace
}  // namespace lowbit::avx2
