// The AVX2 search policy of common/nf4_nested.hpp (the nf4 row's `nested` slot), included by
// nf4_avx2.cpp. Thresholds: scale_by's on 8 at a time (the same bits: every step is exact or a
// correctly rounded IEEE operation). Codes: 8 values at a time, the guess and the three thresholds
// around it gathered. A group where a guess is off or a code may be an exact tie (a's next float is
// the threshold above it, c odd: rare) takes the scalar code() for its 8 values.
#pragma once
#include <immintrin.h>

#include "common/nf4_nested.hpp"

namespace lowbit::avx2 {
namespace {

struct Nf4Nested : simd::NestedThresholds {
  // above_ only: the tie table is made, with the same thresholds, by scale_by() in a block that needs it.
  void block(const float* map, double scale) {
    map_ = map;
    scale_ = scale;
    ties_ = false;
    const __m256d s = _mm256_set1_pd(scale);
    for (int k = 0; k < 256; k += 8) {  // threshold 255 (map[256] is a pad) is overwritten below
      const Nearest lo = nearest(map + k, s), hi = nearest(map + k + 4, s);
      const __m256i g = _mm256_castps_si256(_mm256_add_ps(_mm256_set_m128(hi.g, lo.g), _mm256_setzero_ps()));  // -0 -> +0
      const __m256i up = _mm256_or_si256(_mm256_srai_epi32(g, 31), _mm256_set1_epi32(1));  // +1 ulp toward +Inf
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(above_.data() + k + 1),
                          _mm256_add_epi32(g, _mm256_andnot_si256(_mm256_set_m128i(hi.above, lo.above), up)));
    }
    above_[256] = kInf;
  }

  // Where 1/m is a normal float (no clamp, no subnormal), r = a * inverse is within 2.01 ulps of a / m,
  // and the guess g is not above the count when r lies 4 ulps or more inside its cell: the cell's lowest
  // value L is then below a / m, and g counts midpoints below L. Elsewhere the threshold below g is
  // gathered too (r near L) or the scalar code() runs (1/m out of range).
  void codes(const simd::NestedGuess& guess, const float* a, std::size_t len, float inverse, std::uint8_t* out) {
    using G = simd::NestedGuess;
    std::size_t i = 0;
    const std::size_t vectors = inverse >= 0x1p-125f && inverse <= 0x1p125f ? len / 8 * 8 : 0;
    const __m256 inv = _mm256_set1_ps(inverse);
    const __m256i one = _mm256_set1_epi32(1), low = _mm256_set1_epi32(0xFFFF);
    for (; i < vectors; i += 8) {
      const __m256 x = _mm256_loadu_ps(a + i);
      const __m256i r = _mm256_castps_si256(_mm256_mul_ps(x, inv)), xb = _mm256_castps_si256(x), sign = _mm256_srai_epi32(r, 31);
      __m256i key = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(r, 16), _mm256_set1_epi32(0x7FFF)), _mm256_set1_epi32(G::kLow));
      key = _mm256_min_epi32(_mm256_max_epi32(key, _mm256_setzero_si256()), _mm256_set1_epi32(G::kCells - 1));
      const __m256i index = _mm256_add_epi32(_mm256_xor_si256(key, sign), _mm256_set1_epi32(G::kCells));
      const __m256i g = _mm256_and_si256(_mm256_i32gather_epi32(reinterpret_cast<const int*>(guess.table()), index, 1), _mm256_set1_epi32(0xFF));
      // ulps from r to L: its low 16 bits (positive r), 2^16 less them (negative r: L is the next cell's edge)
      const __m256i inside = _mm256_xor_si256(_mm256_and_si256(r, low), _mm256_and_si256(sign, low));
      const __m256 mid = _mm256_i32gather_ps(above_.data() + 1, g, 4), hi = _mm256_i32gather_ps(above_.data() + 2, g, 4);
      const __m256 ge = _mm256_cmp_ps(x, mid, _CMP_GE_OQ);
      const __m256i c = _mm256_sub_epi32(g, _mm256_castps_si256(ge));
      __m256 off = _mm256_cmp_ps(x, hi, _CMP_GE_OQ);
      if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(4), inside)))) [[unlikely]]
        off = _mm256_or_ps(off, _mm256_cmp_ps(x, _mm256_i32gather_ps(above_.data(), g, 4), _CMP_LT_OQ));
      // a tie needs above_[c + 1] = a + 1 ulp toward +Inf
      const __m256i next = _mm256_add_epi32(xb, _mm256_or_si256(_mm256_srai_epi32(xb, 31), one));
      const __m256i tie = _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_castps_si256(_mm256_blendv_ps(mid, hi, ge)), next), _mm256_slli_epi32(c, 31));
      if (_mm256_movemask_ps(_mm256_or_ps(off, _mm256_castsi256_ps(tie)))) [[unlikely]] {
        for (std::size_t j = i; j < i + 8; ++j) out[j] = scalar(guess, a[j], inverse);
        continue;
      }
      const __m256i w = _mm256_packus_epi16(_mm256_packus_epi32(c, c), _mm256_setzero_si256());  // bytes 0-3, 16-19
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_unpacklo_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)));
    }
    for (; i < len; ++i) out[i] = scalar(guess, a[i], inverse);
  }

 private:
  const float* map_ = nullptr;
  double scale_ = 1;
  bool ties_ = false;  // odd_tie_ is this block's

  // The floats g nearest 4 exact thresholds t = h + l (the TwoSum of the two exact products, halved),
  // and whether g > t: g - h is exact, or at least an ulp of h and so more than |l|, so g > t exactly
  // when g - h > l.
  struct Nearest {
    __m128 g;
    __m128i above;  // int32 masks
  };
  static Nearest nearest(const float* map, __m256d scale) {
    const __m256d p = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(map)), scale);
    const __m256d q = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(map + 1)), scale);
    const __m256d sum = _mm256_add_pd(p, q), qq = _mm256_sub_pd(sum, p), pp = _mm256_sub_pd(sum, qq), half = _mm256_set1_pd(0.5);
    const __m256d h = _mm256_mul_pd(sum, half), l = _mm256_mul_pd(_mm256_add_pd(_mm256_sub_pd(p, pp), _mm256_sub_pd(q, qq)), half);
    const __m128 g = _mm256_cvtpd_ps(h);
    const __m256d above = _mm256_cmp_pd(_mm256_sub_pd(_mm256_cvtps_pd(g), h), l, _CMP_GT_OQ);
    const __m128 alo = _mm_castpd_ps(_mm256_castpd256_pd128(above)), ahi = _mm_castpd_ps(_mm256_extractf128_pd(above, 1));
    return {g, _mm_castps_si128(_mm_shuffle_ps(alo, ahi, _MM_SHUFFLE(2, 0, 2, 0)))};
  }
  // The scalar code(), with this block's tie table.
  std::uint8_t scalar(const simd::NestedGuess& guess, float a, float inverse) {
    if (!ties_) scale_by(map_, scale_);
    ties_ = true;
    return code(guess[a * inverse], a);
  }
};

}  // namespace
}  // namespace lowbit::avx2
