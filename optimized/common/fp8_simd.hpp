// The FP8 SIMD kernels, written once over an ISA's lane policy (optimized/<isa>/isa.hpp): the
// constants each call derives from its parameters, then one short sequence of 32-bit lane
// operations per block of 4 vectors (docs/formats/fp8.md, "SIMD kernels"). Encoding works on the
// f32 bit pattern of the input (f16 and bf16 widen to f32 exactly first); sr and rna call the
// reference (documented: scalar).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

#include "common/blocks.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/reference/fp8.hpp"

// Internal linkage: each ISA's translation unit gets its own copy, compiled for that ISA, so the
// linker can never hand an AVX2-compiled copy to code that runs without AVX2.
namespace lowbit::simd {
namespace {

struct Fp8EncodeConstants {
  std::uint32_t man_bits;    // FP8 mantissa bits m
  std::uint32_t drop;        // 23 - m: f32 mantissa bits below FP8's last bit for a normal result
  std::uint32_t min_exp;     // f32 biased exponent of FP8's smallest normal (127 + 1 - bias)
  std::uint32_t max_finite;  // largest finite magnitude code
  std::uint32_t overflow;    // magnitude code of a finite overflow
  std::uint32_t inf;         // magnitude code of +-Inf inputs
  std::uint32_t nan;         // code of NaN inputs, before sign and payload
  std::uint32_t nan_sign;    // 0x80 if a NaN keeps its sign, else 0
  std::uint32_t nan_payload; // 1 if the f32 mantissa bit 21 (the source's second bit) goes to bit 0
  bool nearest;              // rne; otherwise rtz (sr and rna kernels call the reference)
  // The fast path, for blocks whose |x| are all <= max finite (f32 bits <= fast_limit):
  std::uint32_t fast_limit;  // f32 bits of the largest finite FP8 value
  std::uint32_t min_normal;  // f32 bits of FP8's smallest normal; below it the result is subnormal
  std::uint32_t rebias;      // (127 - bias) << m: f32 pattern >> drop, minus this, is the code
  float subnormal_scale;     // 2^(m - emin): |x| times this, rounded to an integer, is the code
};

// The formats these kernels compute; the others call the reference.
constexpr bool simd_format(fp8::Format f) { return f == fp8::Format::e4m3 || f == fp8::Format::e5m2; }

// The f32 bit pattern of the largest finite value of an FP8 format.
constexpr std::uint32_t max_finite_f32_bits(const fp8::Traits& t) {
  const int m = t.layout.man_bits;
  const int e = t.max_finite() >> m, man = t.max_finite() & ((1 << m) - 1);
  return static_cast<std::uint32_t>(((e - t.layout.bias() + 127) << 23) | (man << (23 - m)));
}

// `source`: the input's layout (a NaN's payload bit is kept or not by it).
constexpr Fp8EncodeConstants encode_constants(const fp8::EncodeParams& p, BinaryLayout source) {
  const fp8::Traits& t = traits(p.format);
  const bool same_width = t.layout.exp_bits == source.exp_bits;
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const std::uint32_t special = t.has_inf() ? t.inf() : t.canonical_nan();
  const bool payload = t.has_inf() && (p.nan == fp8::NanEncode::keep_sign_payload ||
                                       (p.nan == fp8::NanEncode::same_width_payload && same_width));
  return {m,
          23 - m,
          static_cast<std::uint32_t>(127 + t.layout.emin()),
          t.max_finite(),
          p.saturate_finite || (p.rounding == Rounding::rtz && p.rtz_saturates) ? t.max_finite() : special,
          p.saturate_inf ? t.max_finite() : special,
          p.nan == fp8::NanEncode::positive_ones ? 0x7Fu : payload ? 0x7Eu : t.canonical_nan(),
          p.nan == fp8::NanEncode::positive_ones ? 0u : 0x80u,
          payload ? 1u : 0u,
          p.rounding == Rounding::rne,
          max_finite_f32_bits(t),
          static_cast<std::uint32_t>(127 + t.layout.emin()) << 23,
          static_cast<std::uint32_t>(127 - t.layout.bias()) << m,
          std::bit_cast<float>(static_cast<std::uint32_t>(127 + static_cast<int>(m) - t.layout.emin()) << 23)};
}

struct Fp8DecodeConstants {
  std::uint32_t man_bits;    // m
  std::uint32_t exp_shift;   // 23 - m: moves the FP8 exponent+mantissa to the f32 fields
  std::uint32_t rebias;      // (127 - bias) << 23
  float subnormal_scale;     // 2^(1 - bias - m): value of mantissa 1 with exponent field 0
  std::uint32_t inf;         // magnitude code of Inf, or 0x100 (never matches) for E4M3
  std::uint32_t nan_above;   // magnitude codes above this are NaN (0x7E E4M3, 0x7C E5M2)
  std::uint32_t nan_bits;    // f32 bits of a decoded NaN, before its sign
  std::uint32_t nan_sign;    // 0x80000000 if a NaN keeps its sign, else 0
};

inline Fp8DecodeConstants decode_constants(const fp8::DecodeParams& p) {
  const fp8::Traits& t = traits(p.format);
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const bool cuda = p.nan == fp8::NanDecode::cuda;
  return {m,
          23 - m,
          static_cast<std::uint32_t>(127 - t.layout.bias()) << 23,
          std::ldexp(1.0f, t.layout.emin() - static_cast<int>(m)),
          t.has_inf() ? t.inf() : 0x100u,
          t.has_inf() ? t.inf() : t.max_finite(),
          cuda ? 0x7FFFE000u : 0x7FC00000u,
          cuda ? 0u : 0x80000000u};
}

// Integer rounding on the f32 pattern of each lane.
template <class I> struct Fp8Encoder {
  using U = typename I::U;
  U drop, min_exp, max_finite, overflow, inf, nan, nan_sign, nan_payload;
  U fast_limit, min_normal, rebias, half_m1;
  typename I::Count man_bits, drop_count;
  typename I::F subnormal_scale;

  explicit Fp8Encoder(const Fp8EncodeConstants& k)
      : drop(I::splat(k.drop)), min_exp(I::splat(k.min_exp)), max_finite(I::splat(k.max_finite)),
        overflow(I::splat(k.overflow)), inf(I::splat(k.inf)), nan(I::splat(k.nan)), nan_sign(I::splat(k.nan_sign)),
        nan_payload(I::splat(k.nan_payload)), fast_limit(I::splat(k.fast_limit)), min_normal(I::splat(k.min_normal)),
        rebias(I::splat(k.rebias)), half_m1(I::splat((1u << (k.drop - 1)) - 1)), man_bits(I::count(k.man_bits)),
        drop_count(I::count(k.drop)), subnormal_scale(I::splat_f(k.subnormal_scale)) {}

  // The fast path: exact only while every |x| <= max finite, which `special` collects. Every
  // value compared is below 2^31, so signed and unsigned compares agree.
  template <bool kNearest> U fast(U x, U& special) const {
    const U abs = I::and_(x, I::splat(0x7FFFFFFF));
    special = I::or_(special, I::gt(abs, fast_limit));
    U t = abs;  // a normal result: round the f32 pattern at FP8's last mantissa bit
    if constexpr (kNearest) t = I::add(abs, I::add(half_m1, I::and_(I::shr(abs, drop_count), I::splat(1))));
    const U normal = I::sub(I::shr(t, drop_count), rebias);
    // A subnormal result: |x| scaled exactly to units of the smallest subnormal, then rounded.
    const U subnormal = I::template round<kNearest ? Rounding::rne : Rounding::rtz>(I::mul(I::as_f(abs), subnormal_scale));
    const U mag = I::select(I::gt(min_normal, abs), subnormal, normal);
    return I::or_(mag, I::and_(I::template shr<24>(x), I::splat(0x80)));
  }

  // f32 bit patterns -> FP8 codes, one per 32-bit lane.
  template <bool kNearest> U encode(U x) const {
    const U abs = I::and_(x, I::splat(0x7FFFFFFF));
    const U sign = I::and_(I::template shr<24>(x), I::splat(0x80));
    const U e = I::template shr<23>(abs);
    const U implicit = I::and_(I::gt(e, I::zero()), I::splat(0x800000));
    const U sig = I::or_(I::and_(abs, I::splat(0x7FFFFF)), implicit);
    // Bits of sig below the result's last bit; more for subnormal results. Past 31 every
    // count gives 0, as the value is then below half the smallest subnormal.
    const U below = I::sub_sat(min_exp, e);
    const U shift = I::min_u(I::add(drop, below), I::splat(31));
    U kept;
    if constexpr (kNearest) {  // add half - 1, plus 1 if the kept part is odd: ties to even
      const U half = I::sub(I::shl_v(I::splat(1), I::sub(shift, I::splat(1))), I::splat(1));
      const U odd = I::and_(I::shr_v(sig, shift), I::splat(1));
      kept = I::shr_v(I::add(I::add(sig, half), odd), shift);
    } else {
      kept = I::shr_v(sig, shift);
    }
    // ((biased exponent - 1) << m) + kept, the exponent counted from FP8's subnormal binade.
    U mag = I::add(I::shl(I::sub_sat(e, min_exp), man_bits), kept);
    mag = I::select(I::gt(mag, max_finite), overflow, mag);
    mag = I::select(I::eq(abs, I::splat(0x7F800000)), inf, mag);
    const U nan_code = I::or_(I::or_(nan, I::and_(sign, nan_sign)), I::and_(I::template shr<21>(abs), nan_payload));
    return I::select(I::gt(abs, I::splat(0x7F800000)), nan_code, I::or_(mag, sign));
  }
};

template <class I> struct Fp8Decoder {
  using U = typename I::U;
  U rebias, sub_limit, inf, nan_above, nan_bits, nan_sign;
  typename I::Count exp_shift;
  typename I::F scale;

  explicit Fp8Decoder(const Fp8DecodeConstants& k)
      : rebias(I::splat(k.rebias)), sub_limit(I::splat(1u << k.man_bits)), inf(I::splat(k.inf)),
        nan_above(I::splat(k.nan_above)), nan_bits(I::splat(k.nan_bits)), nan_sign(I::splat(k.nan_sign)),
        exp_shift(I::count(k.exp_shift)), scale(I::splat_f(k.subnormal_scale)) {}

  // Codes in 32-bit lanes -> f32 bit patterns.
  U decode(U c) const {
    const U mag = I::and_(c, I::splat(0x7F));
    const U sign = I::template shl<24>(I::and_(c, I::splat(0x80)));
    const U normal = I::add(I::shl(mag, exp_shift), rebias);
    const U subnormal = I::as_u(I::mul(I::to_f(mag), scale));
    U bits = I::select(I::gt(sub_limit, mag), subnormal, normal);
    bits = I::select(I::eq(mag, inf), I::splat(0x7F800000), bits);
    bits = I::or_(bits, sign);
    return I::select(I::gt(mag, nan_above), I::or_(nan_bits, I::and_(sign, nan_sign)), bits);
  }
};

// A block: 4 vectors of elements.
template <class I> constexpr std::size_t kFp8Block = 4 * I::kLanes;

template <class I, class In>
void fp8_encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  if (p->rounding == Rounding::sr || p->rounding == Rounding::rna || !simd_format(p->format))
    return ref::fp8_encode_ref(n, in, out, p);
  using U = typename I::U;
  constexpr std::size_t L = I::kLanes;
  const Fp8Encoder<I> enc(encode_constants(*p, FloatTraits<In>::layout));
  auto run = [&]<bool kNearest>() {
    for_each_block<kFp8Block<I>>(n, in, out, [&](const In* i, std::uint8_t* o) {
      U x[4], c[4], special = I::zero();
      for (std::size_t k = 0; k < 4; ++k) x[k] = I::as_u(I::load(i + k * L));
      for (std::size_t k = 0; k < 4; ++k) c[k] = enc.template fast<kNearest>(x[k], special);
      if (I::any(special))  // overflow, Inf or NaN somewhere in the block
        for (std::size_t k = 0; k < 4; ++k) c[k] = enc.template encode<kNearest>(x[k]);
      I::store(o, c);
    });
  };
  if (p->rounding == Rounding::rne) run.template operator()<true>();
  else run.template operator()<false>();
}

template <class I, class Out>
void fp8_decode(std::size_t n, const std::uint8_t* in, Out* out, const fp8::DecodeParams* p) {
  if (!simd_format(p->format)) return ref::fp8_decode_ref(n, in, out, p);
  const Fp8Decoder<I> dec(decode_constants(*p));
  for_each_block<kFp8Block<I>>(n, in, out, [&](const std::uint8_t* i, Out* o) {
    typename I::U c[4];
    typename I::F v[4];
    I::load(i, c);
    for (std::size_t k = 0; k < 4; ++k) v[k] = I::as_f(dec.decode(c[k]));
    I::store(o, v);  // exact: every FP8 value is an f16, and the low 16 bits of its f32 are zero
  });
}

// An ISA's FP8 row of the kernel list (f64: the reference).
template <class I> constexpr fp8::Impl fp8_impl() {
  return {.width = kFp8Block<I>,
          .encode_f32 = fp8_encode<I, float>,
          .encode_f16 = fp8_encode<I, f16>,
          .encode_bf16 = fp8_encode<I, bf16>,
          .decode_f32 = fp8_decode<I, float>,
          .decode_f16 = fp8_decode<I, f16>,
          .decode_bf16 = fp8_decode<I, bf16>};
}

}  // namespace
}  // namespace lowbit::simd
