// The GSE-INT GEMM C = A B^T for AVX2: common/gse_gemm_common.hpp over this policy. Both operands
// are widened to int16 and packed so that one vpmaddwd multiplies a broadcast pair of A codes
// (k, k+1) with the same pair of 8 rows of B; a 4 x 16 tile of outputs accumulates its group dots
// in 8 int32 vectors, with no horizontal reduction.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "avx2/isa.hpp"
#include "common/gse_gemm_common.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::avx2 {
namespace {

// 8 rows of 8 units each -> unit p of the 8 rows in out[p].
void transpose8(__m256i (&r)[8]) {
  __m256i t[8], u[8];
  for (int q = 0; q < 8; q += 2) {
    t[q] = _mm256_unpacklo_epi32(r[q], r[q + 1]);
    t[q + 1] = _mm256_unpackhi_epi32(r[q], r[q + 1]);
  }
  for (int q = 0; q < 8; q += 4) {
    u[q] = _mm256_unpacklo_epi64(t[q], t[q + 2]);
    u[q + 1] = _mm256_unpackhi_epi64(t[q], t[q + 2]);
    u[q + 2] = _mm256_unpacklo_epi64(t[q + 1], t[q + 3]);
    u[q + 3] = _mm256_unpackhi_epi64(t[q + 1], t[q + 3]);
  }
  for (int p = 0; p < 4; ++p) {
    r[p] = _mm256_permute2x128_si256(u[p], u[p + 4], 0x20);
    r[p + 4] = _mm256_permute2x128_si256(u[p], u[p + 4], 0x31);
  }
}

// The GEMM policy of the driver in common/gse_gemm_common.hpp.
struct Gemm : Avx2 {
  static constexpr std::size_t kMR = 4;     // rows of A per tile
  static constexpr std::size_t kNR = 16;    // rows of B per tile (two vectors of 8 lanes)
  static constexpr std::size_t kStep = 2;   // k per microkernel step: a pair of int16 codes per 32-bit unit
  static constexpr std::size_t kPackK = 16;

  // 16 codes of each row from t0 on, widened, into out's [8 pairs][R][2] layout.
  template <std::size_t R>
  static void pack(const std::int8_t* const (&rows)[R], std::size_t t0, std::int16_t* out) {
    const auto widen = [&](std::size_t q) {
      return rows[q] ? _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[q] + t0)))
                     : _mm256_setzero_si256();
    };
    if constexpr (R == kNR) {
      for (std::size_t h = 0; h < 2; ++h) {
        __m256i r[8];
        for (std::size_t q = 0; q < 8; ++q) r[q] = widen(8 * h + q);
        transpose8(r);
        for (std::size_t p = 0; p < 8; ++p)
          _mm256_store_si256(reinterpret_cast<__m256i*>(out + p * 2 * kNR + 16 * h), r[p]);
      }
    } else {
      const __m256i r0 = widen(0), r1 = widen(1), r2 = widen(2), r3 = widen(3);
      const __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
      const __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
      const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // pairs 0|4, 1|5
      const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // pairs 2|6, 3|7
      __m256i* o = reinterpret_cast<__m256i*>(out);
      _mm256_storeu_si256(o, _mm256_permute2x128_si256(u0, u1, 0x20));
      _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
      _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
      _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
    }
  }

  template <class Epilogue>
  static void run_tile(const std::int16_t* ap, const std::int16_t* bp, std::size_t groups, std::size_t steps, Epilogue& epi) {
    for (std::size_t g = 0; g < groups; ++g) {
      simd::Dots<Gemm> d;
      for (auto& row : d) row[0] = row[1] = _mm256_setzero_si256();
      for (std::size_t t = 0; t < steps; ++t, ap += kStep * kMR, bp += kStep * kNR) {
        const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp));
        const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + 16));
#pragma GCC unroll 4
        for (std::size_t i = 0; i < kMR; ++i) {
          std::int32_t pair;
          std::memcpy(&pair, ap + 2 * i, sizeof pair);
          const __m256i a = _mm256_set1_epi32(pair);
          d[i][0] = _mm256_add_epi32(d[i][0], _mm256_madd_epi16(a, b0));  // exact: |a0 b0 + a1 b1| <= 2^15
          d[i][1] = _mm256_add_epi32(d[i][1], _mm256_madd_epi16(a, b1));
        }
      }
      epi(g, d);
    }
  }
};

}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {

const gse::GemmImpl gse_gemm_avx2{.width = avx2::Gemm::kNR, .gemm = simd::gemm<avx2::Gemm>};

}  // namespace lowbit::kernels
