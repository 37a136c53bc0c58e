// The GSE-INT GEMM C = A B^T for NEON (aarch64): common/gse_gemm_common.hpp over this policy, with
// an 8 x 8 output tile. Both operands are widened to int16 and packed k-major, so that one SMLAL
// (by element) multiplies 4 rows of B by the code of one row of A at the same k and accumulates in
// int32; the 64 group dots of a tile live in 16 registers. Baseline NEON only (no SDOT), so it runs
// on every aarch64 core.
#include <arm_neon.h>

#include <cstdint>
#include <utility>

#include "common/gse_gemm_common.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::neon {
namespace {

// The GEMM policy of the driver in common/gse_gemm_common.hpp.
struct Gemm : Neon {
  static constexpr std::size_t kMR = 8;   // rows of A per tile
  static constexpr std::size_t kNR = 8;   // rows of B per tile (two vectors of 4 lanes)
  static constexpr std::size_t kStep = 1; // k per microkernel step
  static constexpr std::size_t kPackK = 8;

  // 8 rows of 8 codes from t0 on, widened and transposed: code t0 + c of the 8 rows in out[8 c..].
  template <std::size_t R>
  static void pack(const std::int8_t* const (&rows)[R], std::size_t t0, std::int16_t* out) {
    static_assert(R == 8);
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

  template <class Epilogue>
  static void run_tile(const std::int16_t* ap, const std::int16_t* bp, std::size_t groups, std::size_t steps, Epilogue& epi) {
    for (std::size_t g = 0; g < groups; ++g) {
      int32x4_t acc[kMR][2];
      for (auto& row : acc) row[0] = row[1] = vdupq_n_s32(0);
      for (std::size_t t = 0; t < steps; ++t, ap += kStep * kMR, bp += kStep * kNR) {
        const int16x8_t a = vld1q_s16(ap), b = vld1q_s16(bp);
        [&]<std::size_t... I>(std::index_sequence<I...>) { (mla<I>(acc, a, b), ...); }(std::make_index_sequence<kMR>{});
      }
      simd::Dots<Gemm> d;
      for (std::size_t i = 0; i < kMR; ++i)
        for (std::size_t h = 0; h < 2; ++h) d[i][h] = vreinterpretq_u32_s32(acc[i][h]);
      epi(g, d);
    }
  }

 private:
  template <std::size_t I> static void mla(int32x4_t (&d)[kMR][2], int16x8_t a, int16x8_t b) {
    d[I][0] = vmlal_laneq_s16(d[I][0], vget_low_s16(b), a, I);  // exact: int16 x int16 into int32
    d[I][1] = vmlal_high_laneq_s16(d[I][1], b, a, I);
  }
};

}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {

const gse::GemmImpl gse_gemm_neon{.width = neon::Gemm::kNR, .gemm = simd::gemm<neon::Gemm>};

}  // namespace lowbit::kernels
