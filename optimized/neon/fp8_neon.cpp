// FP8 kernels for NEON (aarch64): 16 elements a step, integer rounding on the f32 bit pattern.
// A lane-for-lane port of optimized/avx2/fp8_avx2.cpp (docs/formats/fp8.md "SIMD kernels");
// constants come from fp8_simd.hpp.
#include <arm_neon.h>

#include "common/blocks.hpp"
#include "lowbit/kernels.hpp"
#include "common/fp8_simd.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit::neon {
namespace {

constexpr std::size_t kWidth = 16;

uint32x4_t splat(std::uint32_t v) { return vdupq_n_u32(v); }

struct Encoder {
  uint32x4_t drop, min_exp, max_finite, overflow, inf, nan, nan_sign, nan_payload;
  uint32x4_t fast_limit, min_normal, rebias, half_m1;
  int32x4_t man_bits, drop_right;
  float32x4_t subnormal_scale;

  explicit Encoder(const simd::Fp8EncodeConstants& k)
      : drop(splat(k.drop)), min_exp(splat(k.min_exp)), max_finite(splat(k.max_finite)),
        overflow(splat(k.overflow)), inf(splat(k.inf)), nan(splat(k.nan)), nan_sign(splat(k.nan_sign)),
        nan_payload(splat(k.nan_payload)), fast_limit(splat(k.fast_limit)), min_normal(splat(k.min_normal)),
        rebias(splat(k.rebias)), half_m1(splat((1u << (k.drop - 1)) - 1)),
        man_bits(vdupq_n_s32(static_cast<int>(k.man_bits))), drop_right(vdupq_n_s32(-static_cast<int>(k.drop))),
        subnormal_scale(vdupq_n_f32(k.subnormal_scale)) {}

  // The fast path: exact only while every |x| <= max finite, which `special` collects.
  template <bool kNearest> uint32x4_t fast4(uint32x4_t x, uint32x4_t& special) const {
    const uint32x4_t abs = vandq_u32(x, splat(0x7FFFFFFF));
    special = vorrq_u32(special, vcgtq_u32(abs, fast_limit));
    uint32x4_t t = abs;  // a normal result: round the f32 pattern at FP8's last mantissa bit
    if constexpr (kNearest) t = vaddq_u32(abs, vaddq_u32(half_m1, vandq_u32(vshlq_u32(abs, drop_right), splat(1))));
    const uint32x4_t normal = vsubq_u32(vshlq_u32(t, drop_right), rebias);
    // A subnormal result: |x| scaled exactly to units of the smallest subnormal, then converted
    // with an explicit rounding (FCVTNU: nearest even, FCVTZU: toward zero), whatever FPCR says.
    const float32x4_t scaled = vmulq_f32(vreinterpretq_f32_u32(abs), subnormal_scale);
    const uint32x4_t subnormal = kNearest ? vcvtnq_u32_f32(scaled) : vcvtq_u32_f32(scaled);
    const uint32x4_t mag = vbslq_u32(vcgtq_u32(min_normal, abs), subnormal, normal);
    return vorrq_u32(mag, vandq_u32(vshrq_n_u32(x, 24), splat(0x80)));
  }

  // 4 f32 bit patterns -> 4 FP8 codes, one per 32-bit lane. Every value compared is < 2^31,
  // so the unsigned compares here equal AVX2's signed ones.
  template <bool kNearest> uint32x4_t encode4(uint32x4_t x) const {
    const uint32x4_t abs = vandq_u32(x, splat(0x7FFFFFFF));
    const uint32x4_t sign = vandq_u32(vshrq_n_u32(x, 24), splat(0x80));
    const uint32x4_t e = vshrq_n_u32(abs, 23);
    const uint32x4_t implicit = vandq_u32(vcgtq_u32(e, splat(0)), splat(0x800000));
    const uint32x4_t sig = vorrq_u32(vandq_u32(abs, splat(0x7FFFFF)), implicit);
    // Bits of sig below the result's last bit; more for subnormal results. Past 31 every
    // count gives 0, as the value is then below half the smallest subnormal.
    const uint32x4_t below = vqsubq_u32(min_exp, e);  // max(min_exp - e, 0)
    const int32x4_t shift = vreinterpretq_s32_u32(vminq_u32(vaddq_u32(drop, below), splat(31)));
    const int32x4_t right = vnegq_s32(shift);  // vshlq_u32 shifts right by a negative count
    uint32x4_t kept;
    if constexpr (kNearest) {  // add half - 1, plus 1 if the kept part is odd: ties to even
      const uint32x4_t half_m1 = vsubq_u32(vshlq_u32(splat(1), vsubq_s32(shift, vdupq_n_s32(1))), splat(1));
      const uint32x4_t odd = vandq_u32(vshlq_u32(sig, right), splat(1));
      kept = vshlq_u32(vaddq_u32(vaddq_u32(sig, half_m1), odd), right);
    } else {
      kept = vshlq_u32(sig, right);
    }
    // ((biased exponent - 1) << m) + kept, the exponent counted from FP8's subnormal binade.
    uint32x4_t mag = vaddq_u32(vshlq_u32(vqsubq_u32(e, min_exp), man_bits), kept);  // max(e, min_exp) - min_exp
    mag = vbslq_u32(vcgtq_u32(mag, max_finite), overflow, mag);
    mag = vbslq_u32(vceqq_u32(abs, splat(0x7F800000)), inf, mag);
    const uint32x4_t nan_code = vorrq_u32(vorrq_u32(nan, vandq_u32(sign, nan_sign)),
                                          vandq_u32(vshrq_n_u32(abs, 21), nan_payload));
    return vbslq_u32(vcgtq_u32(abs, splat(0x7F800000)), nan_code, vorrq_u32(mag, sign));
  }
};

// Four vectors of 4 codes in 32-bit lanes -> 16 bytes in element order.
void store_codes(std::uint8_t* out, uint32x4_t a, uint32x4_t b, uint32x4_t c, uint32x4_t d) {
  const uint16x8_t ab = vcombine_u16(vmovn_u32(a), vmovn_u32(b)), cd = vcombine_u16(vmovn_u32(c), vmovn_u32(d));
  vst1q_u8(out, vcombine_u8(vmovn_u16(ab), vmovn_u16(cd)));  // exact: every code is < 256
}

uint32x4_t load_f32(const float* p) { return vreinterpretq_u32_f32(vld1q_f32(p)); }
uint32x4_t load_f16(const f16* p) {  // exact; a signalling NaN is quieted, payload kept (as F16C)
  return vreinterpretq_u32_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)))));
}
uint32x4_t load_bf16(const bf16* p) { return vshll_n_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)), 16); }

template <class In, uint32x4_t (*Load)(const In*)>
void encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  if (p->rounding == Rounding::sr || p->rounding == Rounding::rna)  // documented: scalar
    return ref::fp8_encode_ref(n, in, out, p);
  const Encoder enc(simd::encode_constants(*p));
  auto run = [&]<bool kNearest>() {
    simd::for_each_block<kWidth>(n, in, out, [&](const In* i, std::uint8_t* o) {
      const uint32x4_t x0 = Load(i), x1 = Load(i + 4), x2 = Load(i + 8), x3 = Load(i + 12);
      uint32x4_t special = splat(0);
      const uint32x4_t c0 = enc.fast4<kNearest>(x0, special), c1 = enc.fast4<kNearest>(x1, special);
      const uint32x4_t c2 = enc.fast4<kNearest>(x2, special), c3 = enc.fast4<kNearest>(x3, special);
      if (vmaxvq_u32(special) == 0) store_codes(o, c0, c1, c2, c3);
      else  // overflow, Inf or NaN somewhere in the block
        store_codes(o, enc.encode4<kNearest>(x0), enc.encode4<kNearest>(x1), enc.encode4<kNearest>(x2), enc.encode4<kNearest>(x3));
    });
  };
  if (p->rounding == Rounding::rne) run.template operator()<true>();
  else run.template operator()<false>();
}

struct Decoder {
  uint32x4_t rebias, sub_limit, inf, nan_above, nan_bits, nan_sign;
  int32x4_t exp_shift;
  float32x4_t scale;

  explicit Decoder(const simd::Fp8DecodeConstants& k)
      : rebias(splat(k.rebias)), sub_limit(splat(1u << k.man_bits)), inf(splat(k.inf)),
        nan_above(splat(k.nan_above)), nan_bits(splat(k.nan_bits)), nan_sign(splat(k.nan_sign)),
        exp_shift(vdupq_n_s32(static_cast<int>(k.exp_shift))), scale(vdupq_n_f32(k.subnormal_scale)) {}

  // 4 codes in 32-bit lanes -> 4 f32 bit patterns.
  uint32x4_t decode4(uint32x4_t c) const {
    const uint32x4_t mag = vandq_u32(c, splat(0x7F));
    const uint32x4_t sign = vshlq_n_u32(vandq_u32(c, splat(0x80)), 24);
    const uint32x4_t normal = vaddq_u32(vshlq_u32(mag, exp_shift), rebias);
    const uint32x4_t subnormal = vreinterpretq_u32_f32(vmulq_f32(vcvtq_f32_u32(mag), scale));
    uint32x4_t bits = vbslq_u32(vcgtq_u32(sub_limit, mag), subnormal, normal);
    bits = vbslq_u32(vceqq_u32(mag, inf), splat(0x7F800000), bits);
    bits = vorrq_u32(bits, sign);
    const uint32x4_t nan = vorrq_u32(nan_bits, vandq_u32(sign, nan_sign));
    return vbslq_u32(vcgtq_u32(mag, nan_above), nan, bits);
  }
  // 16 codes -> 4 vectors of 4 f32 bit patterns, in element order.
  uint32x4x4_t load16(const std::uint8_t* p) const {
    const uint8x16_t b = vld1q_u8(p);
    const uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_high_u8(b);
    return {{decode4(vmovl_u16(vget_low_u16(lo))), decode4(vmovl_high_u16(lo)),
             decode4(vmovl_u16(vget_low_u16(hi))), decode4(vmovl_high_u16(hi))}};
  }
};

void decode_f32(std::size_t n, const std::uint8_t* in, float* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, float* o) {
    const uint32x4x4_t v = dec.load16(i);
    for (int k = 0; k < 4; ++k) vst1q_f32(o + 4 * k, vreinterpretq_f32_u32(v.val[k]));
  });
}

void decode_f16(std::size_t n, const std::uint8_t* in, f16* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, f16* o) {
    const uint32x4x4_t v = dec.load16(i);
    for (int k = 0; k < 4; k += 2) {  // exact: every FP8 value is an f16; NaN keeps its top bits
      const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vreinterpretq_f32_u32(v.val[k])),
                                              vreinterpretq_f32_u32(v.val[k + 1]));
      vst1q_u16(reinterpret_cast<std::uint16_t*>(o + 4 * k), vreinterpretq_u16_f16(h));
    }
  });
}

void decode_bf16(std::size_t n, const std::uint8_t* in, bf16* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, bf16* o) {
    const uint32x4x4_t v = dec.load16(i);
    for (int k = 0; k < 4; k += 2)  // exact: the low 16 bits of every decoded f32 are zero
      vst1q_u16(reinterpret_cast<std::uint16_t*>(o + 4 * k),
                vshrn_high_n_u32(vshrn_n_u32(v.val[k], 16), v.val[k + 1], 16));
  });
}


}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {
using namespace lowbit::neon;

const fp8::Impl fp8_neon{
    .width = kWidth,
    .encode_f32 = encode<float, load_f32>,  // f64: the reference
    .encode_f16 = encode<f16, load_f16>,
    .encode_bf16 = encode<bf16, load_bf16>,
    .decode_f32 = decode_f32,
    .decode_f16 = decode_f16,
    .decode_bf16 = decode_bf16,
};

}  // namespace lowbit::kernels
