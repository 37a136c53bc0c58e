// QEFT mixed-precision matvec for NEON (aarch64): common/qeft_simd.hpp over this policy, 8 lanes
// held as two float32x4 per row (lanes 0-3 and 4-7). The tables of a group: vfmaq + vcvt_f16_f32
// per 4 codes where that is exact, kept as two byte planes. A 64-column block of one row is 32
// bytes of qweight: vld2q_u8 splits the 16-bit words into low / high bytes, the nibbles index
// vqtbl1q_u8 on each plane (vqtbl2q_u8 on two groups' planes when a group is an odd multiple of 32
// columns), vzip1q/vzip2q join the planes to fp16 of 8 consecutive columns and vcvt_f32_f16 /
// vcvt_high_f32_f16 make the FMA operands.
#include <arm_neon.h>

#include <cstdint>

#include "common/qeft_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::neon {
namespace {

using simd::QeftPlanes;
using simd::QeftTable;

// 4 f32 with every NaN made sign | 0x7FC00000.
inline float32x4_t canonical(float32x4_t v) {
  const uint32x4_t bits = vreinterpretq_u32_f32(v);
  const uint32x4_t canon = vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x80000000u)), vdupq_n_u32(0x7FC00000u));
  return vreinterpretq_f32_u32(vbslq_u32(vceqq_f32(v, v), bits, canon));
}

// The QEFT policy of the kernel in common/qeft_simd.hpp.
struct Qeft : Neon {
  struct V8 {
    float32x4_t lo, hi;  // lanes 0-3, 4-7
  };
  static V8 zero8() { return {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}; }
  static V8 load8(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static V8 fma8(V8 acc, V8 w, V8 x) { return {vfmaq_f32(acc.lo, w.lo, x.lo), vfmaq_f32(acc.hi, w.hi, x.hi)}; }
  static V8 cvt8(const std::uint16_t* h) {
    const float16x8_t v = vreinterpretq_f16_u16(vld1q_u16(h));
    return {vcvt_f32_f16(vget_low_f16(v)), vcvt_high_f32_f16(v)};
  }
  static V8 weak8(const std::uint16_t* h) {
    const V8 v = cvt8(h);
    return {canonical(v.lo), canonical(v.hi)};
  }
  static float reduce8(V8 a) {
    const float32x4_t s = vaddq_f32(a.lo, a.hi);                         // a0+a4, a1+a5, a2+a6, a3+a7
    const float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));  // (a0+a4)+(a2+a6), (a1+a5)+(a3+a7)
    return vpadds_f32(t);
  }

  static void to_f32(H h, float* out) {
    const float16x8_t v = vreinterpretq_f16_u16(h);
    vst1q_f32(out, vcvt_f32_f16(vget_low_f16(v)));
    vst1q_f32(out + 4, vcvt_high_f32_f16(v));
  }
  static void fast_table(const float* s, const float* z, H& h0, H& h1) {
    static constexpr float kCodes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const float32x4_t sb = vld1q_dup_f32(s), zb = vld1q_dup_f32(z);
    float32x4_t v[4];
    for (int i = 0; i < 4; ++i) v[i] = vfmaq_f32(zb, vld1q_f32(kCodes + 4 * i), sb);
    h0 = vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(v[0]), v[1]));
    h1 = vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(v[2]), v[3]));
  }
  static void store_table(QeftTable& t, H h0, H h1) {
    const uint8x16_t a = vreinterpretq_u8_u16(h0), b = vreinterpretq_u8_u16(h1);
    vst1q_u8(t.lo, vuzp1q_u8(a, b));
    vst1q_u8(t.hi, vuzp2q_u8(a, b));
  }

  // f16[16 n + 8 h + t] = column 32 h + 8 n + t.
  template <bool Same> static void decode(const std::int16_t* q, const QeftPlanes& p, std::size_t r, std::uint16_t* f16) {
    const uint8x16x2_t b = vld2q_u8(reinterpret_cast<const std::uint8_t*>(q));  // low bytes, high bytes of 16 words
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const uint8x16_t n[4] = {vandq_u8(b.val[0], m4), vshrq_n_u8(b.val[0], 4), vandq_u8(b.val[1], m4), vshrq_n_u8(b.val[1], 4)};
    const auto store = [&](int i, uint8x16_t l, uint8x16_t h) {
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i), vzip1q_u8(l, h));
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i + 8), vzip2q_u8(l, h));
    };
    if constexpr (Same) {
      const uint8x16_t lo = vld1q_u8(p.h0[r].lo), hi = vld1q_u8(p.h0[r].hi);
      for (int i = 0; i < 4; ++i) store(i, vqtbl1q_u8(lo, n[i]), vqtbl1q_u8(hi, n[i]));
    } else {  // lanes 8..15 (the second half) index the second group's plane: + 16
      const uint8x16x2_t lo = {{vld1q_u8(p.h0[r].lo), vld1q_u8(p.h1[r].lo)}};
      const uint8x16x2_t hi = {{vld1q_u8(p.h0[r].hi), vld1q_u8(p.h1[r].hi)}};
      static constexpr std::uint8_t kHalf[16] = {0, 0, 0, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16};
      const uint8x16_t half = vld1q_u8(kHalf);
      for (int i = 0; i < 4; ++i) {
        const uint8x16_t idx = vorrq_u8(n[i], half);
        store(i, vqtbl2q_u8(lo, idx), vqtbl2q_u8(hi, idx));
      }
    }
  }
  template <class T> static void pin(T&) {}
};

}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {

const qeft::Impl qeft_neon{.width = 8, .matvec = simd::qeft_matvec<neon::Qeft>};

}  // namespace lowbit::kernels
