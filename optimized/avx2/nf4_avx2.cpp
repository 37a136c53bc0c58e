// NF4/FP4 blockwise kernels for AVX2: one block a step, 32 codes (16 packed bytes) a store.
// Quantize: the block's largest |x| bit pattern (vpmaxud), the per-block plan of nf4_simd.hpp, then
// per lane the count of thresholds below y (a 4-step binary search, vpermps), a vpshufb from count to code and vpmaddubsw
// (16 * even + odd) to pack two codes a byte. Dequantize: the block's 16 products table * absmax
// (vmulps gives x86's NaN for 0 * Inf, as the reference), then vpermps per nibble.
// The reference runs: profiles that mix the rules of the four named ones (whole call), blocks that
// nf4::valid_block() rejects (whole call), and bnb-cuda blocks holding a NaN (that block).
#include <immintrin.h>

#include <cstring>

#include "common/blocks.hpp"
#include "common/nf4_simd.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/nf4.hpp"

namespace lowbit::avx2 {
namespace {

using simd::Nf4Mode;

// The largest f32 bit pattern with the sign cleared over len (a multiple of 32) elements; the next
// block is prefetched meanwhile (blocks.hpp).
std::uint32_t amax_bits(const float* x, std::size_t len) {
  const __m256i abs = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i m0 = _mm256_setzero_si256(), m1 = m0;
  for (std::size_t j = 0; j < len; j += 16) {
    __builtin_prefetch(reinterpret_cast<const char*>(x + j) + simd::kPrefetchAhead);
    m0 = _mm256_max_epu32(m0, _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + j)), abs));
    m1 = _mm256_max_epu32(m1, _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + j + 8)), abs));
  }
  const __m256i m = _mm256_max_epu32(m0, m1);
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xB1));
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(h));
}

// The thresholds as the 4-step binary search below reads them: t7, then t3 / t11, then t[base + 1]
// for base in {0, 4, 8, 12} (vpermps of `a`), then t[base] for even base (vpermps of `b`). The
// search counts exactly #{k : y > t[k]} because every threshold list is non-decreasing.
struct Lanes {
  __m256 scale;
  __m256 t7, t3, t11, a, b;
  __m256i lut;  // count -> code, in both 128-bit halves
};

void set_thresholds(Lanes& l, const float* t) {
  l.t7 = _mm256_set1_ps(t[7]);
  l.t3 = _mm256_set1_ps(t[3]);
  l.t11 = _mm256_set1_ps(t[11]);
  l.a = _mm256_setr_ps(t[1], t[5], t[9], t[13], t[1], t[5], t[9], t[13]);
  l.b = _mm256_setr_ps(t[0], t[2], t[4], t[6], t[8], t[10], t[12], t[14]);
}

// lowbit's exact midpoints in the order of Lanes, as doubles: RD(mid * absmax) per block in 4 vectors.
struct ExactMids {
  __m256d a, b0, b1, c;  // {1,5,9,13}, {0,2,4,6}, {8,10,12,14}, {7,3,11,11}
};

ExactMids exact_mids(const simd::Nf4Plan& k) {
  const auto& m = k.mid;
  return {_mm256_setr_pd(m[1], m[5], m[9], m[13]), _mm256_setr_pd(m[0], m[2], m[4], m[6]),
          _mm256_setr_pd(m[8], m[10], m[12], m[14]), _mm256_setr_pd(m[7], m[3], m[11], m[11])};
}

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

void exact_thresholds(Lanes& l, const ExactMids& m, float absmax) {
  const __m256d a = _mm256_set1_pd(static_cast<double>(absmax));
  const __m128 ta = round_down4(_mm256_mul_pd(m.a, a)), tc = round_down4(_mm256_mul_pd(m.c, a));
  l.a = _mm256_set_m128(ta, ta);
  l.b = _mm256_set_m128(round_down4(_mm256_mul_pd(m.b1, a)), round_down4(_mm256_mul_pd(m.b0, a)));
  l.t7 = _mm256_broadcastss_ps(tc);
  l.t3 = _mm256_broadcastss_ps(_mm_shuffle_ps(tc, tc, 1));
  l.t11 = _mm256_broadcastss_ps(_mm_shuffle_ps(tc, tc, 2));
}

// Elements p[0..7]: their counts as int32 lanes.
template <Nf4Mode M, bool Divide> __m256i count8(const float* p, const Lanes& l) {
  __m256 y = _mm256_loadu_ps(p);
  if constexpr (M != Nf4Mode::exact) y = Divide ? _mm256_div_ps(y, l.scale) : _mm256_mul_ps(y, l.scale);
  __m256i sign = _mm256_setzero_si256();
  if constexpr (M == Nf4Mode::cuda_fp4) {  // sign = v < 0 (NaN and -0 are not), then |v|
    sign = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LT_OQ)), _mm256_set1_epi32(8));
    y = _mm256_and_ps(y, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
  }
  // torch: !(y <= m[k]), true for a NaN y (bucketize puts NaN past every bound); else y > T[k].
  const auto gt = [&](__m256 t) {
    return _mm256_castps_si256(M == Nf4Mode::torch ? _mm256_cmp_ps(y, t, _CMP_NLE_UQ) : _mm256_cmp_ps(y, t, _CMP_GT_OQ));
  };
  const __m256i g8 = gt(l.t7);
  __m256i base = _mm256_and_si256(g8, _mm256_set1_epi32(8));
  base = _mm256_add_epi32(base, _mm256_and_si256(gt(_mm256_blendv_ps(l.t3, l.t11, _mm256_castsi256_ps(g8))), _mm256_set1_epi32(4)));
  base = _mm256_add_epi32(base, _mm256_and_si256(gt(_mm256_permutevar8x32_ps(l.a, _mm256_srli_epi32(base, 2))), _mm256_set1_epi32(2)));
  base = _mm256_sub_epi32(base, gt(_mm256_permutevar8x32_ps(l.b, _mm256_srli_epi32(base, 1))));
  return _mm256_or_si256(base, sign);
}

// 32 elements -> 16 packed bytes. The packs keep runs of 4 consecutive elements together, so the
// pairs that maddubs joins are (2j, 2j+1); the two halves then hold bytes 0,1,4,5,.. and 2,3,6,7,..
template <Nf4Mode M, bool Divide> void codes32(const float* p, std::uint8_t* out, const Lanes& l) {
  const __m256i ab = _mm256_packs_epi32(count8<M, Divide>(p, l), count8<M, Divide>(p + 8, l));
  const __m256i cd = _mm256_packs_epi32(count8<M, Divide>(p + 16, l), count8<M, Divide>(p + 24, l));
  const __m256i codes = _mm256_shuffle_epi8(l.lut, _mm256_packs_epi16(ab, cd));
  const __m256i pairs = _mm256_maddubs_epi16(codes, _mm256_set1_epi16(0x0110));  // 16 * even + odd
  const __m256i bytes = _mm256_packus_epi16(pairs, pairs);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_unpacklo_epi16(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1)));
}

template <Nf4Mode M, bool Divide> void code_block(const float* x, std::size_t len, std::uint8_t* out, const Lanes& l) {
  for (std::size_t j = 0; j < len; j += 32) codes32<M, Divide>(x + j, out + j / 2, l);
}

void quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const simd::Nf4Plan k = simd::plan_nf4(*p);
  if (k.mode == Nf4Mode::reference || !nf4::valid_block(p->block)) return ref::nf4_quantize_ref(n, in, packed, absmax, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  Lanes l;
  set_thresholds(l, k.thr.data());
  const ExactMids mids = exact_mids(k);
  l.lut = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k.lut.data())));
  alignas(32) float tail[4096];
  alignas(32) std::uint8_t tail_out[2048];
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = std::min(block, n - start);
    const bool partial = len < block;
    const float* x = in + start;
    std::uint8_t* o = packed + start / 2;
    std::size_t padded = block;
    if (partial) {  // the last block through a zero-padded copy, as blocks.hpp
      padded = (len + 31) & ~std::size_t{31};
      std::memcpy(tail, x, len * sizeof(float));
      std::fill(tail + len, tail + padded, 0.0f);
      x = tail;
      o = tail_out;
    }
    const simd::Nf4Block plan = simd::plan_block(k, in + start, len, partial, amax_bits(x, padded), false);
    absmax[b] = plan.stored;
    if (plan.kind == simd::Nf4Block::fill) {
      std::memset(o, plan.code * 0x11, padded / 2);
    } else if (plan.kind == simd::Nf4Block::reference) {
      ref::nf4_quantize_ref(len, in + start, o, absmax + b, p);  // same partial flag and odd-n padding
    } else {
      l.scale = _mm256_set1_ps(plan.divide ? plan.stored : plan.scale);
      switch (k.mode) {
        case Nf4Mode::exact:
          exact_thresholds(l, mids, plan.stored);
          code_block<Nf4Mode::exact, false>(x, padded, o, l);
          break;
        case Nf4Mode::torch:
          if (plan.divide) code_block<Nf4Mode::torch, true>(x, padded, o, l);
          else code_block<Nf4Mode::torch, false>(x, padded, o, l);
          break;
        case Nf4Mode::cuda_nf4: code_block<Nf4Mode::cuda_nf4, false>(x, padded, o, l); break;
        case Nf4Mode::cuda_fp4: code_block<Nf4Mode::cuda_fp4, false>(x, padded, o, l); break;
        case Nf4Mode::reference: break;
      }
    }
    // A padding lane is a 0.0 scaled like the block: the reference's odd-n padding code.
    if (partial) std::memcpy(packed + start / 2, tail_out, (len + 1) / 2);
  }
}

void dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  if (!nf4::valid_block(p->block)) return ref::nf4_dequantize_ref(n, packed, absmax, out, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  const float* table = reinterpret_cast<const float*>(table_bits(p->table).data());
  const __m256 tlo = _mm256_loadu_ps(table), thi = _mm256_loadu_ps(table + 8);
  // Element 2j is the high nibble of byte j: lane shifts of the 4 bytes read as one word.
  const __m256i shifts = _mm256_setr_epi32(4, 0, 12, 8, 20, 16, 28, 24);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = std::min(block, n - start);
    const std::uint8_t* c = packed + start / 2;
    float* o = out + start;
    // fl(table[c] * absmax) per code: the reference's one product (x86 NaN for 0 * Inf).
    const __m256 a = _mm256_set1_ps(absmax[b]);
    const __m256 lo = _mm256_mul_ps(tlo, a), hi = _mm256_mul_ps(thi, a);
    std::size_t j = 0;
    for (; j + 8 <= len; j += 8) {
      std::uint32_t w;
      std::memcpy(&w, c + j / 2, 4);
      const __m256i idx = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(w)), shifts);
      const __m256 sel = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28));  // bit 3 of the code
      _mm256_storeu_ps(o + j, _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx), sel));
    }
    if (j < len) {
      alignas(32) float scaled[16];
      _mm256_store_ps(scaled, lo);
      _mm256_store_ps(scaled + 8, hi);
      for (; j < len; ++j) o[j] = scaled[ref::nf4_code_at(c, j)];
    }
  }
}


}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {
using namespace lowbit::avx2;

const nf4::Impl nf4_avx2{.width = 32, .encode = quantize, .decode = dequantize};

}  // namespace lowbit::kernels
