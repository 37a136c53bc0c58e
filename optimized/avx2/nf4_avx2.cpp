// NF4/FP4 blockwise kernels for AVX2: one block a step, 32 codes (16 packed bytes) a store. The
// block loops are common/nf4_simd.hpp; this file holds the lane code. Quantize: per lane the count
// of thresholds below y (a 4-step binary search, vpermps), a vpshufb from count to code and
// vpmaddubsw (16 * even + odd) to pack two codes a byte. Dequantize: the block's 16 products
// table * absmax (vmulps gives x86's NaN for 0 * Inf, as the reference), then vpermps per nibble.
#include <immintrin.h>

#include <cstring>

#include "avx2/isa.hpp"
#include "avx2/nf4_nested.hpp"
#include "common/nf4_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::avx2 {
namespace {

using simd::Nf4Mode;

// lowbit's exact midpoints in the order of Lanes' thresholds, as doubles: RD(mid * absmax) per
// block in 4 vectors.
struct ExactMids {
  __m256d a, b0, b1, c;  // {1,5,9,13}, {0,2,4,6}, {8,10,12,14}, {7,3,11,11}
};

// simd::round_down of 4 exact products (mid * absmax: at most 50 significant bits, exact in double).
__m128 round_down4(__m256d d) {
  const __m128 f = _mm256_cvtpd_ps(d);
  const __m256d above = _mm256_cmp_pd(_mm256_cvtps_pd(f), d, _CMP_GT_OQ);
  const __m128i mask = _mm256_castsi256_si128(
      _mm256_permutevar8x32_epi32(_mm256_castpd_si256(above), _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
  const __m128i fb = _mm_castps_si128(f);
  const __m128i down = _mm_or_si128(_mm_srai_epi32(fb, 31), _mm_set1_epi32(1));  // -1 if negative (-0 too), else 1
  return _mm_castsi128_ps(_mm_sub_epi32(fb, _mm_and_si128(down, mask)));
}

// The NF4 policy of the kernels in common/nf4_simd.hpp.
struct Nf4 : Avx2 {
  static constexpr bool kVectorThresholds = true;

  // The thresholds as the 4-step binary search of count8 reads them: t7, then t3 / t11, then
  // t[base + 1] for base in {0, 4, 8, 12} (vpermps of `a`), then t[base] for even base (vpermps of
  // `b`). The search counts exactly #{k : y > t[k]} because every threshold list is non-decreasing.
  class Lanes {
   public:
    explicit Lanes(const simd::Nf4Plan& k) {
      const auto& t = k.thr;
      t7_ = _mm256_set1_ps(t[7]);
      t3_ = _mm256_set1_ps(t[3]);
      t11_ = _mm256_set1_ps(t[11]);
      a_ = _mm256_setr_ps(t[1], t[5], t[9], t[13], t[1], t[5], t[9], t[13]);
      b_ = _mm256_setr_ps(t[0], t[2], t[4], t[6], t[8], t[10], t[12], t[14]);
      const auto& m = k.mid;
      mids_ = {_mm256_setr_pd(m[1], m[5], m[9], m[13]), _mm256_setr_pd(m[0], m[2], m[4], m[6]),
               _mm256_setr_pd(m[8], m[10], m[12], m[14]), _mm256_setr_pd(m[7], m[3], m[11], m[11])};
      lut_ = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k.lut.data())));
    }
    void scale(float s) { scale_ = _mm256_set1_ps(s); }
    void exact(const simd::Nf4Block& block) {
      const __m256d a = _mm256_set1_pd(static_cast<double>(block.stored));
      const __m128 ta = round_down4(_mm256_mul_pd(mids_.a, a)), tc = round_down4(_mm256_mul_pd(mids_.c, a));
      a_ = _mm256_set_m128(ta, ta);
      b_ = _mm256_set_m128(round_down4(_mm256_mul_pd(mids_.b1, a)), round_down4(_mm256_mul_pd(mids_.b0, a)));
      t7_ = _mm256_broadcastss_ps(tc);
      t3_ = _mm256_broadcastss_ps(_mm_shuffle_ps(tc, tc, 1));
      t11_ = _mm256_broadcastss_ps(_mm_shuffle_ps(tc, tc, 2));
    }
    template <Nf4Mode M, bool Divide> void code_block(const float* x, std::size_t len, std::uint8_t* out) const {
      for (std::size_t j = 0; j < len; j += 32) codes32<M, Divide>(x + j, out + j / 2);
    }

   private:
    __m256 scale_, t7_, t3_, t11_, a_, b_;
    ExactMids mids_;
    __m256i lut_;  // count -> code, in both 128-bit halves

    // Elements p[0..7]: their counts as int32 lanes.
    template <Nf4Mode M, bool Divide> __m256i count8(const float* p) const {
      __m256 y = _mm256_loadu_ps(p);
      if constexpr (M != Nf4Mode::exact) y = Divide ? _mm256_div_ps(y, scale_) : _mm256_mul_ps(y, scale_);
      __m256i sign = _mm256_setzero_si256();
      if constexpr (M == Nf4Mode::cuda_fp4) {  // sign = v < 0 (NaN and -0 are not), then |v|
        sign = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LT_OQ)), _mm256_set1_epi32(8));
        y = _mm256_and_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
      }
      // torch: !(y <= m[k]), true for a NaN y (bucketize puts NaN past every bound); else y > T[k].
      const auto gt = [&](__m256 t) {
        return _mm256_castps_si256(M == Nf4Mode::torch ? _mm256_cmp_ps(y, t, _CMP_NLE_UQ) : _mm256_cmp_ps(y, t, _CMP_GT_OQ));
      };
      const __m256i g8 = gt(t7_);
      __m256i base = _mm256_and_si256(g8, _mm256_set1_epi32(8));
      base = _mm256_add_epi32(base, _mm256_and_si256(gt(_mm256_blendv_ps(t3_, t11_, _mm256_castsi256_ps(g8))), _mm256_set1_epi32(4)));
      base = _mm256_add_epi32(base, _mm256_and_si256(gt(_mm256_permutevar8x32_ps(a_, _mm256_srli_epi32(base, 2))), _mm256_set1_epi32(2)));
      base = _mm256_sub_epi32(base, gt(_mm256_permutevar8x32_ps(b_, _mm256_srli_epi32(base, 1))));
      return _mm256_or_si256(base, sign);
    }

    // 32 elements -> 16 packed bytes. The packs keep runs of 4 consecutive elements together, so the
    // pairs that maddubs joins are (2j, 2j+1); the two halves then hold bytes 0,1,4,5,.. and 2,3,6,7,..
    template <Nf4Mode M, bool Divide> void codes32(const float* p, std::uint8_t* out) const {
      const __m256i ab = _mm256_packs_epi32(count8<M, Divide>(p), count8<M, Divide>(p + 8));
      const __m256i cd = _mm256_packs_epi32(count8<M, Divide>(p + 16), count8<M, Divide>(p + 24));
      const __m256i codes = _mm256_shuffle_epi8(lut_, _mm256_packs_epi16(ab, cd));
      const __m256i pairs = _mm256_maddubs_epi16(codes, _mm256_set1_epi16(0x0110));  // 16 * even + odd
      const __m256i bytes = _mm256_packus_epi16(pairs, pairs);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                       _mm_unpacklo_epi16(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1)));
    }
  };

  class Dequant {
   public:
    explicit Dequant(nf4::Table t) {
      const float* table = reinterpret_cast<const float*>(table_bits(t).data());
      tlo_ = _mm256_loadu_ps(table);
      thi_ = _mm256_loadu_ps(table + 8);
    }
    // fl(table[c] * absmax) per code: the reference's one product (x86 NaN for 0 * Inf).
    void block(float absmax) {
      const __m256 a = _mm256_set1_ps(absmax);
      lo_ = _mm256_mul_ps(tlo_, a);
      hi_ = _mm256_mul_ps(thi_, a);
    }
    std::size_t run(const std::uint8_t* c, std::size_t len, float* o) const {
      // Element 2j is the high nibble of byte j: lane shifts of the 4 bytes read as one word.
      const __m256i shifts = _mm256_setr_epi32(4, 0, 12, 8, 20, 16, 28, 24);
      std::size_t j = 0;
      for (; j + 8 <= len; j += 8) {
        std::uint32_t w;
        std::memcpy(&w, c + j / 2, 4);
        const __m256i idx = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(w)), shifts);
        const __m256 sel = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28));  // bit 3 of the code
        _mm256_storeu_ps(o + j, _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo_, idx), _mm256_permutevar8x32_ps(hi_, idx), sel));
      }
      return j;
    }
    void table(float* scaled) const {
      _mm256_storeu_ps(scaled, lo_);
      _mm256_storeu_ps(scaled + 8, hi_);
    }

   private:
    __m256 tlo_, thi_, lo_, hi_;
  };
};

}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {

const nf4::Impl nf4_avx2{.width = 32, .encode = simd::nf4_quantize<avx2::Nf4>, .decode = simd::nf4_dequantize<avx2::Nf4>,
                        .nested = simd::nf4_nested<avx2::Nf4Nested>};

}  // namespace lowbit::kernels
