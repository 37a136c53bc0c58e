// The GSE-INT GEMM C = A B^T for NEON (aarch64), bit-identical to reference/src/gse_gemm.cpp in
// both accumulation modes: a port of optimized/avx2/gse_gemm_avx2.cpp (same packing plan, tile
// planning, epilogues and rounding), with an 8 x 8 output tile. Both operands are widened to int16
// and packed k-major, so that one SMLAL (by element) multiplies 4 rows of B by the code of one row
// of A at the same k and accumulates in int32; the 64 group dots of a tile live in 16 registers.
// Baseline NEON only (no SDOT), so it runs on every aarch64 core.
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "common/gse_gemm_common.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::neon {
namespace {

constexpr std::size_t kMR = 8;    // rows of A per tile
constexpr std::size_t kNR = 8;    // rows of B per tile (two vectors of 4 lanes)
constexpr std::size_t kStep = 1;  // k per microkernel step

using namespace simd;  // the shared pieces and the driver: gse_gemm_common.hpp

// ---- Packing ----

// 8 rows of 8 codes from t0 on, widened and transposed: code t0 + c of the 8 rows in out[8 c..].
void pack8(const std::int8_t* const (&rows)[8], std::size_t t0, std::int16_t* out) {
  int16x8_t r[8];
  for (std::size_t q = 0; q < 8; ++q) r[q] = rows[q] ? vmovl_s8(vld1_s8(rows[q] + t0)) : vdupq_n_s16(0);
  int32x4_t u[8];
  for (std::size_t q = 0; q < 8; q += 4) {
    const int16x8_t t0_ = vtrn1q_s16(r[q], r[q + 1]), t1_ = vtrn2q_s16(r[q], r[q + 1]);
    const int16x8_t t2_ = vtrn1q_s16(r[q + 2], r[q + 3]), t3_ = vtrn2q_s16(r[q + 2], r[q + 3]);
    u[q] = vtrn1q_s32(vreinterpretq_s32_s16(t0_), vreinterpretq_s32_s16(t2_));      // columns 0 | 4
    u[q + 1] = vtrn1q_s32(vreinterpretq_s32_s16(t1_), vreinterpretq_s32_s16(t3_));  // 1 | 5
    u[q + 2] = vtrn2q_s32(vreinterpretq_s32_s16(t0_), vreinterpretq_s32_s16(t2_));  // 2 | 6
    u[q + 3] = vtrn2q_s32(vreinterpretq_s32_s16(t1_), vreinterpretq_s32_s16(t3_));  // 3 | 7
  }
  for (std::size_t c = 0; c < 4; ++c) {
    const int64x2_t lo = vreinterpretq_s64_s32(u[c]), hi = vreinterpretq_s64_s32(u[c + 4]);
    vst1q_s16(out + 8 * c, vreinterpretq_s16_s64(vtrn1q_s64(lo, hi)));
    vst1q_s16(out + 8 * (c + 4), vreinterpretq_s16_s64(vtrn2q_s64(lo, hi)));
  }
}

// A block of R rows: int16 codes as [k][R], zero past k and in padding rows; exponents as
// [groups][R]. Padding rows repeat the last row's exponents.
template <std::size_t R>
Block pack_rows(const std::int8_t* codes, std::size_t k, std::size_t kp, const Operand& o, std::size_t r0,
                std::size_t valid, bool shift, std::int16_t* out, std::int32_t* exps) {
  static_assert(R == 8);
  const std::int8_t* rows[R];
  for (std::size_t rr = 0; rr < R; ++rr) rows[rr] = rr < valid ? codes + (r0 + rr) * k : nullptr;
  const std::size_t k8 = k / 8 * 8;
  for (std::size_t t = 0; t < k8; t += 8) pack8(rows, t, out + t * R);
  std::memset(out + k8 * R, 0, (kp - k8) * R * sizeof(std::int16_t));
  for (std::size_t rr = 0; rr < valid; ++rr)
    for (std::size_t t = k8; t < k; ++t) out[t * R + rr] = rows[rr][t];
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

using Dots = int32x4_t[kMR][2];  // lane l of d[i][h]: row i of A, row 4 h + l of B

int32x4_t load(const std::int32_t* p) { return vld1q_s32(p); }

template <std::size_t I> void mla(Dots& d, int16x8_t a, int16x8_t b) {
  d[I][0] = vmlal_laneq_s16(d[I][0], vget_low_s16(b), a, I);  // exact: int16 x int16 into int32
  d[I][1] = vmlal_high_laneq_s16(d[I][1], b, a, I);
}

template <class Epilogue>
void run_tile(const std::int16_t* ap, const std::int16_t* bp, std::size_t groups, std::size_t steps, Epilogue& epi) {
  for (std::size_t g = 0; g < groups; ++g) {
    Dots d;
    for (auto& row : d) row[0] = row[1] = vdupq_n_s32(0);
    for (std::size_t t = 0; t < steps; ++t, ap += kStep * kMR, bp += kStep * kNR) {
      const int16x8_t a = vld1q_s16(ap), b = vld1q_s16(bp);
      [&]<std::size_t... I>(std::index_sequence<I...>) { (mla<I>(d, a, b), ...); }(std::make_index_sequence<kMR>{});
    }
    epi(g, d);
  }
}

// ---- Epilogues (as in the AVX2 file, 4 lanes a vector) ----

float32x4_t pow2(int32x4_t e) {  // 2^e for e in [-126, 127]
  return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(e, vdupq_n_s32(127)), 23));
}

// fp32: acc = acc + f32(dot * 2^e), where f32() rounds to nearest even, overflows to Inf and
// keeps subnormals (FPCR's defaults), as pack_nearest rounds the reference's term. kNormal:
// every e of the tile lies in [-126, 127], so 2^e is a normal f32 and one multiplication of exact
// operands is that rounding (exact unless it overflows). Otherwise e is clamped to [-200, 200]
// (beyond, the term is +-0 or +-Inf either way) and split e = e1 + e2, e2 in {-100, 0, 100}, with
// dot * 2^e1 exact (|dot| <= 2^22): the one rounding is the multiplication by 2^e2. The empty
// asm statements keep the compiler from fusing a multiplication with the add (FMLA rounds once).
template <bool kNormal> struct Fp32Epilogue {
  const std::int32_t* ea;  // [groups][kMR]
  const std::int32_t* eb;  // [groups][kNR]
  float32x4_t acc[kMR][2];

  Fp32Epilogue(const std::int32_t* a, const std::int32_t* b) : ea(a), eb(b) {
    for (auto& row : acc) row[0] = row[1] = vdupq_n_f32(0.0f);
  }

  void operator()(std::size_t g, const Dots& d) {
    const int32x4_t b[2] = {load(eb + g * kNR), load(eb + g * kNR + 4)};
    for (std::size_t i = 0; i < kMR; ++i) {
      const int32x4_t a = vdupq_n_s32(ea[g * kMR + i]);
      for (std::size_t h = 0; h < 2; ++h) {
        const float32x4_t dot = vcvtq_f32_s32(d[i][h]);  // exact: |dot| <= 2^22
        const int32x4_t e = vaddq_s32(a, b[h]);
        float32x4_t term;
        if constexpr (kNormal) {
          term = vmulq_f32(dot, pow2(e));
          __asm__("" : "+w"(term));
        } else {
          const int32x4_t ec = vmaxq_s32(vminq_s32(e, vdupq_n_s32(200)), vdupq_n_s32(-200));
          const uint32x4_t small = vcltq_s32(ec, vdupq_n_s32(-126)), large = vcgtq_s32(ec, vdupq_n_s32(127));
          const int32x4_t e2 = vbslq_s32(small, vdupq_n_s32(-100), vbslq_s32(large, vdupq_n_s32(100), vdupq_n_s32(0)));
          term = vmulq_f32(dot, pow2(vsubq_s32(ec, e2)));
          __asm__("" : "+w"(term));
          term = vmulq_f32(term, pow2(e2));
          __asm__("" : "+w"(term));
        }
        acc[i][h] = vaddq_f32(acc[i][h], term);
      }
    }
  }

  void finish(float (&out)[kMR][kNR]) {
    for (std::size_t i = 0; i < kMR; ++i) {
      vst1q_f32(out[i], acc[i][0]);
      vst1q_f32(out[i] + 4, acc[i][1]);
    }
  }
};

// exact, the tile's exponent span below 64: s = e - (lowest e of row i) - (lowest e of row j),
// in [0, 63]. dot * 2^s is split into int32 words:
//   r = s mod 32:  dot << r = hi * 2^32 + lo, lo unsigned = lo_h * 2^16 + lo_l
// so that the words of weight 2^0, 2^16, 2^32 (and 2^32, 2^48, 2^64 when s >= 32) take values
// below 2^21 each: 512 groups fit in int32 before the fold into int128.
template <bool kTwoLimbs> struct ExactEpilogue {
  static constexpr std::size_t kWords = kTwoLimbs ? 5 : 3;
  const std::int32_t* sa;  // [groups][kMR]: e - lowest e of the row
  const std::int32_t* sb;
  int32x4_t w[kMR][2][kWords];
  i128 total[kMR][kNR] = {};
  std::size_t pending = 0;

  ExactEpilogue(const std::int32_t* a, const std::int32_t* b) : sa(a), sb(b) { clear(); }

  void clear() {
    for (auto& row : w)
      for (auto& half : row)
        for (auto& word : half) word = vdupq_n_s32(0);
  }

  void operator()(std::size_t g, const Dots& d) {
    const int32x4_t b[2] = {load(sb + g * kNR), load(sb + g * kNR + 4)};
    const int32x4_t low16 = vdupq_n_s32(0xFFFF), n32 = vdupq_n_s32(32);
    for (std::size_t i = 0; i < kMR; ++i) {
      const int32x4_t a = vdupq_n_s32(sa[g * kMR + i]);
      for (std::size_t h = 0; h < 2; ++h) {
        int32x4_t* x = w[i][h];
        const int32x4_t s = vaddq_s32(a, b[h]);
        const int32x4_t r = kTwoLimbs ? vandq_s32(s, vdupq_n_s32(31)) : s;
        const int32x4_t lo = vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(d[i][h]), r));
        const int32x4_t hi = vshlq_s32(d[i][h], vsubq_s32(r, n32));  // right by 32 - r; r = 0: the sign
        const int32x4_t lo_l = vandq_s32(lo, low16);
        const int32x4_t lo_h = vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(lo), 16));
        if constexpr (!kTwoLimbs) {
          x[0] = vaddq_s32(x[0], lo_l);
          x[1] = vaddq_s32(x[1], lo_h);
          x[2] = vaddq_s32(x[2], hi);
        } else {
          const uint32x4_t up = vtstq_s32(s, n32);  // s >= 32: 32 bits up
          x[0] = vaddq_s32(x[0], vbicq_s32(lo_l, vreinterpretq_s32_u32(up)));
          x[1] = vaddq_s32(x[1], vbicq_s32(lo_h, vreinterpretq_s32_u32(up)));
          x[2] = vaddq_s32(x[2], vbslq_s32(up, lo_l, hi));
          x[3] = vaddq_s32(x[3], vandq_s32(lo_h, vreinterpretq_s32_u32(up)));
          x[4] = vaddq_s32(x[4], vandq_s32(hi, vreinterpretq_s32_u32(up)));
        }
      }
    }
    if (++pending == kFlush) flush();
  }

  void flush() {
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t h = 0; h < 2; ++h) {
        std::int32_t v[kWords][4];
        for (std::size_t t = 0; t < kWords; ++t) vst1q_s32(v[t], w[i][h][t]);
        for (std::size_t l = 0; l < 4; ++l)
          for (std::size_t t = 0; t < kWords; ++t) total[i][4 * h + l] += static_cast<i128>(v[t][l]) << (16 * t);
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

struct Neon {
  static constexpr std::size_t kMR = neon::kMR, kNR = neon::kNR, kStep = neon::kStep;
  using Dots = neon::Dots;
  template <bool kNormal> using Fp32Epilogue = neon::Fp32Epilogue<kNormal>;
  template <bool kTwoLimbs> using ExactEpilogue = neon::ExactEpilogue<kTwoLimbs>;
  template <std::size_t R> static Block pack_rows(auto&&... args) { return neon::pack_rows<R>(args...); }
  static void run_tile(auto&&... args) { neon::run_tile(args...); }

  static void store(std::int32_t (&dot)[kMR][kNR], const Dots& d) {  // dot[i][j]: row i of A, row j of B
    for (std::size_t i = 0; i < kMR; ++i) {
      vst1q_s32(dot[i], d[i][0]);
      vst1q_s32(dot[i] + 4, d[i][1]);
    }
  }
};


}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {
using namespace lowbit::neon;

const gse::GemmImpl gse_gemm_neon{.width = kNR, .gemm = simd::gemm<Neon>};

}  // namespace lowbit::kernels
