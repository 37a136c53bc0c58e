// GSE-INT kernels for NEON (aarch64): one group of N a step, 16 codes a store. A lane-for-lane
// port of optimized/avx2/gse_avx2.cpp; per-group decisions come from gse_simd.hpp. FCVTNS, FCVTAS
// and FCVTZS round with their own mode (rne, rna, rtz), whatever FPCR says, and saturate.
#include <arm_neon.h>

#include <type_traits>

#include "common/blocks.hpp"
#include "lowbit/kernels.hpp"
#include "common/gse_simd.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::neon {
namespace {

float32x4_t load_f32(const float* p) { return vld1q_f32(p); }
float32x4_t load_f16(const f16* p) {  // exact; a signalling NaN stays a NaN
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p))));
}
float32x4_t load_bf16(const bf16* p) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(reinterpret_cast<const std::uint16_t*>(p)), 16));
}

// The largest f32 bit pattern with the sign cleared: integer order is magnitude order, NaN above Inf.
template <std::size_t N, class In, float32x4_t (*Load)(const In*)> std::uint32_t amax_bits(const In* in) {
  uint32x4_t m = vdupq_n_u32(0);
  for (std::size_t j = 0; j < N; j += 4) m = vmaxq_u32(m, vandq_u32(vreinterpretq_u32_f32(Load(in + j)), vdupq_n_u32(0x7FFFFFFF)));
  return vmaxvq_u32(m);
}

template <Rounding R> int32x4_t round_lanes(float32x4_t s) {
  if constexpr (R == Rounding::rne) return vcvtnq_s32_f32(s);
  if constexpr (R == Rounding::rna) return vcvtaq_s32_f32(s);
  return vcvtq_s32_f32(s);
}

// The group's N codes, lanes(j) giving those of elements j..j+3 as int32 (within +-127), as int8.
template <std::size_t N, class Lanes> void store_codes(std::int8_t* out, Lanes&& lanes) {
  for (std::size_t j = 0; j < N; j += 16) {
    const int16x8_t lo = vcombine_s16(vmovn_s32(lanes(j)), vmovn_s32(lanes(j + 4)));
    const int16x8_t hi = vcombine_s16(vmovn_s32(lanes(j + 8)), vmovn_s32(lanes(j + 12)));
    vst1q_s8(out + j, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
  }
}

template <std::size_t N, Rounding R, class In, float32x4_t (*Load)(const In*)>
void encode_groups(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams& p,
                   BlockStats& stats) {
  const simd::GseEncodeConstants k = simd::encode_constants(p);
  const float32x4_t limit = vdupq_n_f32(k.limit);
  const int32x4_t max = vdupq_n_s32(k.max), min = vdupq_n_s32(-k.max);
  simd::for_each_block<N>(n, in, codes, [&](const In* i, std::int8_t* o) {
    std::uint8_t& field = *exps++;
    const simd::GsePlan plan = simd::plan_group(amax_bits<N, In, Load>(i), k, stats);
    field = plan.field;
    const float32x4_t scale = vdupq_n_f32(plan.scale);
    switch (plan.kind) {
      case simd::GsePlan::lanes:
        return store_codes<N>(o, [&](std::size_t j) { return round_lanes<R>(vmulq_f32(Load(i + j), scale)); });
      case simd::GsePlan::saturate: {  // rare: a maximum rounded past max, or the exponent overflowed
        uint32x4_t saturated = vdupq_n_u32(0);
        store_codes<N>(o, [&](std::size_t j) {
          const float32x4_t s = vmulq_f32(Load(i + j), scale);
          saturated = vsubq_u32(saturated, vcageq_f32(s, limit));  // |s| >= limit: Inf too
          return vmaxq_s32(vminq_s32(round_lanes<R>(s), max), min);  // the conversion saturated already
        });
        stats.saturated += vaddvq_u32(saturated);  // padding zeros of a short group never count
        return;
      }
      case simd::GsePlan::nan: std::fill(o, o + N, std::int8_t{0}); return;
      case simd::GsePlan::reference: ref::gse_encode_ref<In>(N, i, o, &field, &p, &stats); return;
    }
  });
}

template <class In, float32x4_t (*Load)(const In*)>
void encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
            BlockStats* stats) {
  if (p->rounding == Rounding::sr) return ref::gse_encode_ref(n, in, codes, exps, p, stats);  // documented: scalar
  BlockStats local;
  const bool done = simd::with_group_size(p->format.group, [&]<std::size_t N>() {
    if (p->rounding == Rounding::rne) encode_groups<N, Rounding::rne, In, Load>(n, in, codes, exps, *p, local);
    else if (p->rounding == Rounding::rtz) encode_groups<N, Rounding::rtz, In, Load>(n, in, codes, exps, *p, local);
    else encode_groups<N, Rounding::rna, In, Load>(n, in, codes, exps, *p, local);
  });
  if (!done) return ref::gse_encode_ref(n, in, codes, exps, p, stats);
  if (stats) *stats += local;
}

// 16 codes -> code * scale as 4 vectors of f32 lanes, in element order.
float32x4x4_t decode16(const std::int8_t* c, float32x4_t scale) {
  const int8x16_t b = vld1q_s8(c);
  const int16x8_t lo = vmovl_s8(vget_low_s8(b)), hi = vmovl_high_s8(b);
  const auto f = [&](int32x4_t x) { return vmulq_f32(vcvtq_f32_s32(x), scale); };
  return {{f(vmovl_s16(vget_low_s16(lo))), f(vmovl_high_s16(lo)), f(vmovl_s16(vget_low_s16(hi))), f(vmovl_high_s16(hi))}};
}

void store16(float* o, float32x4x4_t v) { vst1q_f32_x4(o, v); }
void store16(f16* o, float32x4x4_t v) {  // one rounding of the exact f32 product (FCVTN: nearest even by default FPCR)
  for (int k = 0; k < 4; k += 2)
    vst1q_u16(reinterpret_cast<std::uint16_t*>(o + 4 * k), vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(v.val[k]), v.val[k + 1])));
}
void store16(bf16* o, float32x4x4_t v) {  // exact: the product has at most 8 significant bits
  for (int k = 0; k < 4; k += 2)
    vst1q_u16(reinterpret_cast<std::uint16_t*>(o + 4 * k),
              vshrn_high_n_u32(vshrn_n_u32(vreinterpretq_u32_f32(v.val[k]), 16), vreinterpretq_u32_f32(v.val[k + 1]), 16));
}

template <std::size_t N, class Out>
void decode_groups(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format& f) {
  const int shift = simd::decode_shift(f);
  simd::for_each_block<N>(n, codes, out, [&](const std::int8_t* c, Out* o) {
    const std::uint8_t field = *exps++;
    if (field == f.nan_field()) return simd::fill_quiet_nan(o, N);
    int d = field + shift;
    // f16: below d = -126 every result is +-0, above 127 +-Inf (or +0), so the clamp changes nothing.
    if constexpr (std::is_same_v<Out, f16>) d = std::clamp(d, -126, 127);
    else if (!simd::exact_f32(d)) return simd::decode_group_scalar(N, c, field, o, f);
    const float32x4_t scale = vdupq_n_f32(simd::pow2(d));
    for (std::size_t j = 0; j < N; j += 16) store16(o + j, decode16(c + j, scale));
  });
}

template <class Out>
void decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  if (!simd::with_group_size(f->group, [&]<std::size_t N>() { decode_groups<N, Out>(n, codes, exps, out, *f); }))
    ref::gse_decode_ref(n, codes, exps, out, f);
}


}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {
using namespace lowbit::neon;

const gse::Impl gse_neon{
    .width = 16,
    .encode_f32 = encode<float, load_f32>,
    .encode_f16 = encode<f16, load_f16>,
    .encode_bf16 = encode<bf16, load_bf16>,
    .decode_f32 = decode<float>,
    .decode_f16 = decode<f16>,
    .decode_bf16 = decode<bf16>,
};

}  // namespace lowbit::kernels
