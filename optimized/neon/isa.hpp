// The NEON (aarch64) lane policy of the kernel skeletons in optimized/common/: the vector types,
// loads, stores and lane operations the skeletons are written in, as NEON intrinsics. Lanes are
// 32 bits (4 a vector); a batch is K = 4 vectors of consecutive elements, loaded or stored
// together. Internal linkage, as every SIMD header (common/blocks.hpp).
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::neon {
namespace {

struct Neon {
  static constexpr std::size_t kLanes = 4;
  using U = uint32x4_t;    // 4 x 32-bit integers, signed or unsigned as each operation says
  using F = float32x4_t;   // 4 x f32
  struct Count {           // one shift count for every lane: vshlq shifts right by a negative one
    int32x4_t left, right;
  };
  using B = uint8x16_t;    // 16 bytes

  // ---- 32-bit integer lanes
  static U zero() { return vdupq_n_u32(0); }
  static U splat(std::uint32_t v) { return vdupq_n_u32(v); }
  static U load(const std::int32_t* p) { return vreinterpretq_u32_s32(vld1q_s32(p)); }
  static void store(std::int32_t* p, U v) { vst1q_s32(p, s(v)); }
  static U and_(U a, U b) { return vandq_u32(a, b); }
  static U or_(U a, U b) { return vorrq_u32(a, b); }
  static U xor_(U a, U b) { return veorq_u32(a, b); }
  static U and_not(U a, U b) { return vbicq_u32(a, b); }  // a & ~b
  static U add(U a, U b) { return vaddq_u32(a, b); }
  static U sub(U a, U b) { return vsubq_u32(a, b); }
  static U sub_sat(U a, U b) { return vqsubq_u32(a, b); }  // unsigned max(a - b, 0)
  static U min_u(U a, U b) { return vminq_u32(a, b); }
  static U max_u(U a, U b) { return vmaxq_u32(a, b); }
  static U min_s(U a, U b) { return u(vminq_s32(s(a), s(b))); }
  static U max_s(U a, U b) { return u(vmaxq_s32(s(a), s(b))); }
  template <int k> static U shl(U a) { return vshlq_n_u32(a, k); }
  template <int k> static U shr(U a) { return vshrq_n_u32(a, k); }
  template <int k> static U sra(U a) { return u(vshrq_n_s32(s(a), k)); }
  static Count count(unsigned k) { return {vdupq_n_s32(static_cast<int>(k)), vdupq_n_s32(-static_cast<int>(k))}; }
  static U shl(U a, Count k) { return vshlq_u32(a, k.left); }
  static U shr(U a, Count k) { return vshlq_u32(a, k.right); }
  static U shl_v(U a, U k) { return vshlq_u32(a, s(k)); }  // lane counts 0..31
  static U shr_v(U a, U k) { return vshlq_u32(a, vnegq_s32(s(k))); }
  static U sra_v(U a, U k) { return u(vshlq_s32(s(a), vnegq_s32(s(k)))); }  // lane counts 0..32
  static U gt(U a, U b) { return vcgtq_s32(s(a), s(b)); }  // signed; masks are all ones
  static U eq(U a, U b) { return vceqq_u32(a, b); }
  static U select(U mask, U yes, U no) { return vbslq_u32(mask, yes, no); }
  static bool any(U a) { return vmaxvq_u32(a) != 0; }
  static unsigned popcount(U mask) { return vaddvq_u32(vshrq_n_u32(mask, 31)); }
  static std::uint32_t max_lane(U a) { return vmaxvq_u32(a); }  // unsigned

  // ---- f32 lanes
  static F zero_f() { return vdupq_n_f32(0.0f); }
  static F splat_f(float v) { return vdupq_n_f32(v); }
  static F as_f(U a) { return vreinterpretq_f32_u32(a); }
  static U as_u(F a) { return vreinterpretq_u32_f32(a); }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  static F abs(F a) { return vabsq_f32(a); }
  static U ge(F a, F b) { return vcgeq_f32(a, b); }  // false for NaN
  static F to_f(U a) { return vcvtq_f32_s32(s(a)); }  // signed
  static void store(float* p, F v) { vst1q_f32(p, v); }
  // round(a) as int32 lanes: FCVTNS, FCVTAS, FCVTZS round with their own mode, whatever FPCR
  // says, and saturate.
  template <Rounding R> static U round(F a) {
    if constexpr (R == Rounding::rne) return u(vcvtnq_s32_f32(a));
    if constexpr (R == Rounding::rna) return u(vcvtaq_s32_f32(a));
    return u(vcvtq_s32_f32(a));
  }
  // Keeps the compiler from fusing the operation that made `a` with the next one (FMLA).
  static void keep(F& a) { __asm__("" : "+w"(a)); }

  // ---- loads of 4 elements as f32 (exact; a signalling NaN is quieted, its payload kept, as F16C)
  static F load(const float* p) { return vld1q_f32(p); }
  static F load(const f16* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)))); }
  static F load(const bf16* p) { return as_f(vshll_n_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)), 16)); }
  // Batches of 16 elements.
  static void load(const std::uint8_t* p, U (&v)[4]) {  // zero-extended
    const uint8x16_t b = vld1q_u8(p);
    const uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_high_u8(b);
    v[0] = vmovl_u16(vget_low_u16(lo));
    v[1] = vmovl_high_u16(lo);
    v[2] = vmovl_u16(vget_low_u16(hi));
    v[3] = vmovl_high_u16(hi);
  }
  static void load(const std::int8_t* p, U (&v)[4]) {  // sign-extended
    const int8x16_t b = vld1q_s8(p);
    const int16x8_t lo = vmovl_s8(vget_low_s8(b)), hi = vmovl_high_s8(b);
    v[0] = u(vmovl_s16(vget_low_s16(lo)));
    v[1] = u(vmovl_high_s16(lo));
    v[2] = u(vmovl_s16(vget_low_s16(hi)));
    v[3] = u(vmovl_high_s16(hi));
  }
  static void store(float* p, const F (&v)[4]) { vst1q_f32_x4(p, (float32x4x4_t{{v[0], v[1], v[2], v[3]}})); }
  static void store(f16* p, const F (&v)[4]) {  // rounded to nearest even (FCVTN, default FPCR)
    for (int k = 0; k < 4; k += 2)
      vst1q_u16(reinterpret_cast<std::uint16_t*>(p + 4 * k), vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(v[k]), v[k + 1])));
  }
  static void store(bf16* p, const F (&v)[4]) {  // truncated: the low 16 bits must be zero
    for (int k = 0; k < 4; k += 2)
      vst1q_u16(reinterpret_cast<std::uint16_t*>(p + 4 * k), vshrn_high_n_u32(vshrn_n_u32(as_u(v[k]), 16), as_u(v[k + 1]), 16));
  }
  // 4 vectors of lanes in 0..255 (u8) or -128..127 (s8) -> 16 bytes in element order (exact).
  static void store(std::uint8_t* p, const U (&v)[4]) { vst1q_u8(p, narrow(v)); }
  static void store(std::int8_t* p, const U (&v)[4]) { vst1q_s8(p, vreinterpretq_s8_u8(narrow(v))); }

  // ---- 16-bit integer lanes (8 a vector)
  using H = uint16x8_t;
  static H load_h(const std::uint16_t* p) { return vld1q_u16(p); }
  static H splat_h(std::uint16_t v) { return vdupq_n_u16(v); }
  static H and_h(H a, H b) { return vandq_u16(a, b); }
  static H or_h(H a, H b) { return vorrq_u16(a, b); }
  static H and_not_h(H a, H b) { return vbicq_u16(a, b); }  // a & ~b
  static H sub_h(H a, H b) { return vsubq_u16(a, b); }
  static H max_h(H a, H b) { return vmaxq_u16(a, b); }  // lanes below 2^15
  template <int k> static H shr_h(H a) { return vshrq_n_u16(a, k); }
  static H eq_h(H a, H b) { return vceqq_u16(a, b); }
  static H gt_h(H a, H b) { return vcgtq_s16(vreinterpretq_s16_u16(a), vreinterpretq_s16_u16(b)); }  // signed
  static unsigned mask_h(H mask) {  // lane i: bit i
    static constexpr std::uint16_t kBits[8] = {1, 2, 4, 8, 16, 32, 64, 128};
    return vaddvq_u16(vandq_u16(mask, vld1q_u16(kBits)));
  }

  // ---- bytes: the largest |code| of int8 codes (-128 counts 128)
  static B zero_b() { return vdupq_n_u8(0); }
  template <std::size_t N> static B max_abs(B acc, const std::int8_t* p) {
    for (std::size_t j = 0; j < N; j += 16) acc = vmaxq_u8(acc, vreinterpretq_u8_s8(vabsq_s8(vld1q_s8(p + j))));
    return acc;
  }
  static unsigned max_byte(B a) { return vmaxvq_u8(a); }

 private:
  static int32x4_t s(U a) { return vreinterpretq_s32_u32(a); }
  static U u(int32x4_t a) { return vreinterpretq_u32_s32(a); }
  static uint8x16_t narrow(const U (&v)[4]) {
    const uint16x8_t ab = vcombine_u16(vmovn_u32(v[0]), vmovn_u32(v[1])), cd = vcombine_u16(vmovn_u32(v[2]), vmovn_u32(v[3]));
    return vcombine_u8(vmovn_u16(ab), vmovn_u16(cd));
  }
};

}  // namespace
}  // namespace lowbit::neon
