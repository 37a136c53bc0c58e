// The GSE-INT GEMM C = A B^T for AVX2, bit-identical to reference/src/gse_gemm.cpp in both
// accumulation modes. Integer products inside a group: both operands are widened to int16 and
// packed so that one vpmaddwd multiplies a broadcast pair of A codes (k, k+1) with the same pair
// of 8 rows of B; a 4 x 16 tile of outputs accumulates its group dots in 8 int32 vectors, with no
// horizontal reduction. At each group end the 64 dots go to an epilogue:
//   fp32:  acc = acc + f32(dot * 2^e), lane by lane, groups in order; 2^e is built as an f32
//          (one multiplication where every 2^e of the tile is a normal f32, else split in two
//          factors so that only the last multiplication rounds, as the reference's term does);
//   exact: dot * 2^s (s = e - the lowest e of the row pair) as int32 words of 16-bit weight,
//          folded into an int128 every 512 groups and rounded once at the end to nearest even
//          (the hardware's int64 -> f32 conversion where the result is normal, else pack_nearest
//          as in the reference); spans of 64 bits or more (8-bit exponents far apart) use a
//          scalar multi-limb accumulator.
// The tile's exponent ranges (from the groups that can contribute) pick the epilogue per tile.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/gse_gemm_common.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::avx2 {
namespace {

constexpr std::size_t kMR = 4;    // rows of A per tile
constexpr std::size_t kNR = 16;   // rows of B per tile (two vectors of 8 lanes)
constexpr std::size_t kStep = 2;  // k per microkernel step: a pair of int16 codes per 32-bit unit

using namespace simd;  // the shared pieces and the driver: gse_gemm_common.hpp

// ---- Packing ----

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

// 16 codes of each row from t0 on, widened, into out's [8 pairs][R][2] layout.
template <std::size_t R>
void pack16(const std::int8_t* const (&rows)[R], std::size_t t0, std::int16_t* out) {
  static_assert(R == kMR || R == kNR);
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

// A block of R rows: int16 codes as [k/2][R][2] (a pair of k per 32-bit unit), zero past k and
// in padding rows; exponents as [groups][R]. Padding rows repeat the last row's exponents.
template <std::size_t R>
Block pack_rows(const std::int8_t* codes, std::size_t k, std::size_t kp, const Operand& o, std::size_t r0,
                std::size_t valid, bool shift, std::int16_t* out, std::int32_t* exps) {
  const std::int8_t* rows[R];
  for (std::size_t rr = 0; rr < R; ++rr) rows[rr] = rr < valid ? codes + (r0 + rr) * k : nullptr;
  const std::size_t k16 = k / 16 * 16;
  for (std::size_t t = 0; t < k16; t += 16) pack16<R>(rows, t, out + t * R);
  std::memset(out + k16 * R, 0, (kp - k16) * R * sizeof(std::int16_t));
  for (std::size_t rr = 0; rr < valid; ++rr)
    for (std::size_t t = k16; t < k; ++t) out[(t >> 1) * 2 * R + rr * 2 + (t & 1)] = rows[rr][t];
  Block b{std::numeric_limits<int>::max(), std::numeric_limits<int>::min(), 0};
  for (std::size_t rr = 0; rr < R; ++rr) {
    const std::size_t r = r0 + std::min(rr, valid - 1);
    const int base = shift ? o.lo[r] : 0;
    for (std::size_t g = 0; g < o.groups; ++g) exps[g * R + rr] = o.e[r * o.groups + g] - base;
    b.lo = std::min(b.lo, o.lo[r]);
    b.hi = std::max(b.hi, o.hi[r]);
    b.span = std::max(b.span, o.hi[r] - o.lo[r]);
  }
  return b;
}

// ---- The integer microkernel ----

using Dots = __m256i[kMR][2];  // lane l of d[i][h]: row i of A, row 8 h + l of B

__m256i load(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

template <class Epilogue>
void run_tile(const std::int16_t* ap, const std::int16_t* bp, std::size_t groups, std::size_t steps, Epilogue& epi) {
  for (std::size_t g = 0; g < groups; ++g) {
    Dots d;
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

// ---- Epilogues ----

__m256 pow2(__m256i e) {  // 2^e for e in [-126, 127]
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
}

// fp32: acc = acc + f32(dot * 2^e), where f32() rounds to nearest even, overflows to Inf and
// keeps subnormals (MXCSR's defaults), as pack_nearest rounds the reference's term. kNormal:
// every e of the tile lies in [-126, 127], so 2^e is a normal f32 and one multiplication of exact
// operands is that rounding (exact unless it overflows). Otherwise e is clamped to [-200, 200]
// (beyond, the term is +-0 or +-Inf either way) and split e = e1 + e2, e2 in {-100, 0, 100}, with
// dot * 2^e1 exact (|dot| <= 2^22): the one rounding is the multiplication by 2^e2.
template <bool kNormal> struct Fp32Epilogue {
  const std::int32_t* ea;  // [groups][kMR]
  const std::int32_t* eb;  // [groups][kNR]
  __m256 acc[kMR][2];

  Fp32Epilogue(const std::int32_t* a, const std::int32_t* b) : ea(a), eb(b) {
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_ps();
  }

  void operator()(std::size_t g, const Dots& d) {
    const __m256i b[2] = {load(eb + g * kNR), load(eb + g * kNR + 8)};
    for (std::size_t i = 0; i < kMR; ++i) {
      const __m256i a = _mm256_set1_epi32(ea[g * kMR + i]);
      for (std::size_t h = 0; h < 2; ++h) {
        const __m256 dot = _mm256_cvtepi32_ps(d[i][h]);
        const __m256i e = _mm256_add_epi32(a, b[h]);
        __m256 term;
        if constexpr (kNormal) {
          term = _mm256_mul_ps(dot, pow2(e));
          __asm__("" : "+x"(term));  // never fused with the add (where FMA is enabled)
        } else {
          const __m256i ec = _mm256_max_epi32(_mm256_min_epi32(e, _mm256_set1_epi32(200)), _mm256_set1_epi32(-200));
          const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), ec);
          const __m256i large = _mm256_cmpgt_epi32(ec, _mm256_set1_epi32(127));
          const __m256i e2 = _mm256_or_si256(_mm256_and_si256(small, _mm256_set1_epi32(-100)),
                                             _mm256_and_si256(large, _mm256_set1_epi32(100)));
          term = _mm256_mul_ps(dot, pow2(_mm256_sub_epi32(ec, e2)));
          __asm__("" : "+x"(term));  // never fused with the rounding multiplication or the add
          term = _mm256_mul_ps(term, pow2(e2));
          __asm__("" : "+x"(term));
        }
        acc[i][h] = _mm256_add_ps(acc[i][h], term);
      }
    }
  }

  void finish(float (&out)[kMR][kNR]) {
    for (std::size_t i = 0; i < kMR; ++i) {
      _mm256_storeu_ps(out[i], acc[i][0]);
      _mm256_storeu_ps(out[i] + 8, acc[i][1]);
    }
  }
};

// exact, the tile's exponent span below 64: s = e - (lowest e of row i) - (lowest e of row j),
// in [0, 63] wherever the dot can be non-zero. dot * 2^s is split into int32 words:
//   r = s mod 32:  dot << r = hi * 2^32 + lo, lo unsigned = lo_h * 2^16 + lo_l
// so that the words of weight 2^0, 2^16, 2^32 (and 2^32, 2^48, 2^64 when s >= 32) take values
// below 2^21 each: 512 groups fit in int32 before the fold into int128.
template <bool kTwoLimbs> struct ExactEpilogue {
  static constexpr std::size_t kWords = kTwoLimbs ? 5 : 3;
  const std::int32_t* sa;  // [groups][kMR]: e - lowest e of the row
  const std::int32_t* sb;
  __m256i w[kMR][2][kWords];
  i128 total[kMR][kNR] = {};
  std::size_t pending = 0;

  ExactEpilogue(const std::int32_t* a, const std::int32_t* b) : sa(a), sb(b) { clear(); }

  void clear() {
    for (auto& row : w)
      for (auto& half : row)
        for (auto& word : half) word = _mm256_setzero_si256();
  }

  void operator()(std::size_t g, const Dots& d) {
    const __m256i b[2] = {load(sb + g * kNR), load(sb + g * kNR + 8)};
    const __m256i low16 = _mm256_set1_epi32(0xFFFF), n32 = _mm256_set1_epi32(32);
    for (std::size_t i = 0; i < kMR; ++i) {
      const __m256i a = _mm256_set1_epi32(sa[g * kMR + i]);
      for (std::size_t h = 0; h < 2; ++h) {
        __m256i* x = w[i][h];
        const __m256i s = _mm256_add_epi32(a, b[h]);
        const __m256i r = kTwoLimbs ? _mm256_and_si256(s, _mm256_set1_epi32(31)) : s;
        const __m256i lo = _mm256_sllv_epi32(d[i][h], r);
        const __m256i hi = _mm256_srav_epi32(d[i][h], _mm256_sub_epi32(n32, r));  // r = 0: the sign
        const __m256i lo_l = _mm256_and_si256(lo, low16), lo_h = _mm256_srli_epi32(lo, 16);
        if constexpr (!kTwoLimbs) {
          x[0] = _mm256_add_epi32(x[0], lo_l);
          x[1] = _mm256_add_epi32(x[1], lo_h);
          x[2] = _mm256_add_epi32(x[2], hi);
        } else {
          const __m256i up = _mm256_srai_epi32(_mm256_slli_epi32(s, 26), 31);  // s >= 32: 32 bits up
          x[0] = _mm256_add_epi32(x[0], _mm256_andnot_si256(up, lo_l));
          x[1] = _mm256_add_epi32(x[1], _mm256_andnot_si256(up, lo_h));
          x[2] = _mm256_add_epi32(x[2], _mm256_blendv_epi8(hi, lo_l, up));
          x[3] = _mm256_add_epi32(x[3], _mm256_and_si256(up, lo_h));
          x[4] = _mm256_add_epi32(x[4], _mm256_and_si256(up, hi));
        }
      }
    }
    if (++pending == kFlush) flush();
  }

  void flush() {
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t h = 0; h < 2; ++h) {
        alignas(32) std::int32_t v[kWords][8];
        for (std::size_t t = 0; t < kWords; ++t) _mm256_store_si256(reinterpret_cast<__m256i*>(v[t]), w[i][h][t]);
        for (std::size_t l = 0; l < 8; ++l)
          for (std::size_t t = 0; t < kWords; ++t) total[i][8 * h + l] += static_cast<i128>(v[t][l]) << (16 * t);
      }
    clear();
    pending = 0;
  }

  void finish(float (&out)[kMR][kNR], const std::int32_t* lo_a, const std::int32_t* lo_b) {
    flush();
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t j = 0; j < kNR; ++j) out[i][j] = round_i128(total[i][j], lo_a[i] + lo_b[j]);
  }
};

// ---- The policy of the shared driver (simd::gemm in gse_gemm_common.hpp) ----

struct Avx2 {
  static constexpr std::size_t kMR = avx2::kMR, kNR = avx2::kNR, kStep = avx2::kStep;
  using Dots = avx2::Dots;
  template <bool kNormal> using Fp32Epilogue = avx2::Fp32Epilogue<kNormal>;
  template <bool kTwoLimbs> using ExactEpilogue = avx2::ExactEpilogue<kTwoLimbs>;
  template <std::size_t R> static Block pack_rows(auto&&... args) { return avx2::pack_rows<R>(args...); }
  static void run_tile(auto&&... args) { avx2::run_tile(args...); }

  static void store(std::int32_t (&dot)[kMR][kNR], const Dots& d) {  // dot[i][j]: row i of A, row j of B
    for (std::size_t i = 0; i < kMR; ++i) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(dot[i]), d[i][0]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(dot[i] + 8), d[i][1]);
    }
  }
};


}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {
using namespace lowbit::avx2;

const gse::GemmImpl gse_gemm_avx2{.width = kNR, .gemm = simd::gemm<Avx2>};

}  // namespace lowbit::kernels
