// The FP8 SIMD kernels, written once over an ISA's lane policy (optimized/<isa>/isa.hpp): the
// constants each call derives from its parameters, then one short sequence of 32-bit lane
// operations per block of 4 vectors (docs/formats/fp8.md, "SIMD kernels"), for every format of the
// family and every profile. Encoding works on the f32 bit pattern of the input (f16 and bf16 widen
// to f32 exactly first); f64, sr and rna call the reference (documented: scalar).
#pragma once
#include <bit>
#include <cstdint>

#include "common/blocks.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/reference/fp8.hpp"

// Internal linkage: each ISA's translation unit gets its own copy, compiled for that ISA, so the
// linker can never hand an AVX2-compiled copy to code that runs without AVX2.
namespace lowbit::simd {
namespace {

struct Fp8EncodeConstants {
  std::uint32_t man_bits;    // the format's mantissa bits m
  std::uint32_t drop;        // 23 - m: f32 mantissa bits below the format's last bit for a normal result
  std::uint32_t min_exp;     // f32 biased exponent of the format's smallest normal (127 + emin)
  std::uint32_t max_finite;  // largest finite magnitude code
  std::uint32_t overflow;    // magnitude code of a finite overflow (0x80, the NaN of FNUZ and P3109's finite
                             // domain, takes no sign)
  std::uint32_t inf;         // magnitude code of +-Inf inputs
  std::uint32_t neg_inf;     // of -Inf: inf, but P3109's unsigned formats clamp it to 0
  std::uint32_t nan;         // code of NaN inputs, before sign and payload
  std::uint32_t nan_sign;    // the sign bit if a NaN's sign flips it (xor), else 0
  std::uint32_t nan_payload; // the mantissa bits a NaN keeps from its source's top bits, else 0
  std::uint32_t sign_bit;    // the code's sign bit (0x80, FP6 0x20, FP4 0x08; E8M0: 0)
  std::uint32_t zero_floor;  // the sign is kept where the magnitude code is above this (signed): 0 in the
                             // formats without -0 (FNUZ, P3109), else -1
  std::uint32_t nonpos_below;  // x (signed) below this: unsigned formats' negatives, E8M0's zero too (E8M0: 1,
                               // P3109 unsigned: 0, else INT_MIN)
  std::uint32_t nonpos;      // their code
  bool nearest;              // rne; otherwise rtz (sr and rna kernels call the reference)
  bool unsigned_zero;        // no -0 (FNUZ, P3109): the fast path takes the sign off a zero result
  // The fast path, for blocks whose lanes are all in fast_low .. fast_limit (abs_mask & x):
  std::uint32_t abs_mask;    // 0x7FFFFFFF; unsigned formats keep the sign, so that negatives leave the range
  std::uint32_t fast_low;    // 0; E8M0 1 (zero is no E8M0 value)
  std::uint32_t fast_limit;  // f32 bits of the largest finite value
  std::uint32_t min_normal;  // f32 bits of the smallest normal; below it the result is subnormal
  std::uint32_t rebias;      // (127 - bias) << m (+ flip): the rounded f32 pattern >> drop, minus this, is the code
  std::uint32_t round_half;  // added before >> drop, then the odd bit: half - 1 (ties to even), E8M0 half;
                             // + flip << drop, where flip (rne, P1: 1) makes the kept part's parity the code's
  std::uint32_t odd_mask;    // 1: the kept part's last bit decides ties; E8M0 0: ties go up (ml_dtypes)
  std::uint32_t code_parity; // lane path: 1 where the exponent's part of the code counts in a tie's parity
                             // (no mantissa bits, ties to the even code: P1), else 0
  float subnormal_scale;     // 2^(m - emin): |x| times this, rounded to an integer, is the code
};

// 2^e as an f32, subnormal ones included (E8M0's 2^-127).
constexpr float pow2f(int e) {
  return std::bit_cast<float>(e >= -126 ? static_cast<std::uint32_t>(127 + e) << 23 : 1u << (149 + e));
}

// The f32 bit pattern of a magnitude code (a normal one).
constexpr std::uint32_t code_f32_bits(const fp8::Traits& t, std::uint32_t code) {
  const int m = t.layout.man_bits;
  const int e = static_cast<int>(code >> m), man = static_cast<int>(code & ((1u << m) - 1));
  return static_cast<std::uint32_t>(((e - t.layout.bias() + 127) << 23) | (man << (23 - m)));
}

// The code a value beyond the finite range (overflow, Inf) gets, before its sign.
constexpr std::uint32_t beyond_code(const fp8::Traits& t, bool saturate) {
  if (saturate || t.specials == fp8::Specials::finite) return t.max_finite();
  return t.has_inf() ? t.inf() : t.canonical_nan();
}

// Everything a format, profile and source type mean to the encoder, derived from the descriptor.
// `source`: the input's layout (a NaN's payload is kept or not by it).
constexpr Fp8EncodeConstants encode_constants(const fp8::EncodeParams& p, BinaryLayout source) {
  const fp8::Traits& t = traits(p.format);
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const bool finite = t.specials == fp8::Specials::finite;
  const bool ones = p.nan == fp8::NanEncode::positive_ones || (finite && p.nan == fp8::NanEncode::keep_sign_payload);
  const bool payload = !ones && t.specials == fp8::Specials::ieee &&
                       (p.nan == fp8::NanEncode::keep_sign_payload ||
                        (p.nan == fp8::NanEncode::same_width_payload && t.layout.exp_bits == source.exp_bits));
  // NaN: sign | canonical NaN, except the unsigned 0x80 of FNUZ and P3109 and the finite formats' -0
  // code, which the sign flips (ml_dtypes: +NaN -> -0, -NaN -> +0): one xor covers both.
  const std::uint32_t nan = ones ? t.all_ones() : finite ? t.sign_bit() : t.canonical_nan();
  const bool nan_signed = !ones && !t.unsigned_zero();
  const bool signed_zero = t.has_negative_zero() || !t.is_signed;
  const bool nearest = p.rounding == Rounding::rne;
  // With no mantissa bits the code is the biased exponent: its parity is f32's exponent's plus
  // (127 - bias)'s. Adding that parity to the kept part before its odd bit is taken (and to rebias)
  // makes rne's ties go to the even code (P1: bias 64, flip 1).
  const bool even_code = t.ties_to_even_code && m == 0;
  const std::uint32_t flip = nearest && even_code ? static_cast<std::uint32_t>(127 - t.layout.bias()) & 1 : 0;
  return {m,
          23 - m,
          static_cast<std::uint32_t>(127 + t.layout.emin()),
          t.max_finite(),
          beyond_code(t, overflow_saturates(p, false)),
          beyond_code(t, p.saturate_inf),
          !t.is_signed && p.below_range == fp8::BelowRange::zero ? 0u : beyond_code(t, p.saturate_inf),
          nan,
          nan_signed ? t.sign_bit() : 0u,
          payload ? (1u << m) - 1 : 0u,
          t.sign_bit(),
          signed_zero ? 0xFFFFFFFFu : 0u,
          t.is_signed ? 0x80000000u : t.has_zero ? 0u : 1u,
          p.saturate_finite || p.below_range == fp8::BelowRange::zero ? 0u : t.canonical_nan(),
          nearest,
          !signed_zero,
          t.is_signed ? 0x7FFFFFFFu : 0xFFFFFFFFu,
          t.has_zero ? 0u : 1u,
          code_f32_bits(t, t.max_finite()),
          static_cast<std::uint32_t>(127 + t.layout.emin()) << 23,
          (static_cast<std::uint32_t>(127 - t.layout.bias()) << m) + flip,
          (m > 0 || even_code ? (1u << (22 - m)) - 1 : 1u << 22) + (flip << (23 - m)),
          m > 0 || even_code ? 1u : 0u,
          even_code ? 1u : 0u,
          pow2f(static_cast<int>(m) - t.layout.emin())};
}
// A shortcut the profiles allow: E8M0 gives -Inf the +Inf code (Fp8Encoder::encode), the same NaN
// where Inf is not saturated.
static_assert([] {
  for (const fp8::Profile& p : fp8::kProfiles)
    for (fp8::Format f : fp8::kFormats)
      if (applies(p, f) && !traits(f).has_zero && p.below_range == fp8::BelowRange::nan && p.saturate_inf) return false;
  return true;
}());

struct Fp8DecodeConstants {
  std::uint32_t mag_mask;    // the magnitude bits (all_ones): the bits above the code's are ignored
  std::uint32_t sign_bit;    // the code's sign bit (E8M0: 0)
  std::uint32_t sign_shift;  // 32 - width: moves it to f32's
  std::uint32_t man_bits;    // m
  std::uint32_t exp_shift;   // 23 - m: moves the exponent+mantissa to the f32 fields
  std::uint32_t rebias;      // (127 - bias) << 23
  float subnormal_scale;     // 2^(emin - m): the value of mantissa 1 with exponent field 0
  // The one code (code & special_mask == special) whose bits the formulas do not give, xor the
  // code's sign (which the decoder xors in again): IEEE Inf (+-, mask 0x7F), the NaN 0x80 of FNUZ and
  // P3109 (the profile says whether it keeps its sign; unsigned P3109: 0xFF), E8M0's 0x00 (2^-127: E8M0
  // has no subnormals); none (0x100) in the other formats. It decides last (over top_above's codes).
  std::uint32_t special_mask, special, special_bits;
  // Magnitude codes above top_above (IEEE and fn NaNs, P3109's Inf) decode to (bits & top_keep) |
  // top_bits, `bits` being the formula's: a NaN keeps its sign and payload as the profile says,
  // P3109's Inf its sign.
  std::uint32_t top_above, top_keep, top_bits;
};

// f32 bits of a decoded NaN, before its sign and payload.
constexpr std::uint32_t nan_f32(fp8::NanDecode d) { return d == fp8::NanDecode::cuda ? 0x7FFFE000u : 0x7FC00000u; }
constexpr bool nan_keeps_sign(fp8::NanDecode d) {
  return d == fp8::NanDecode::keep_sign_quiet || d == fp8::NanDecode::keep_payload;
}

constexpr Fp8DecodeConstants decode_constants(const fp8::DecodeParams& p) {
  const fp8::Traits& t = traits(p.format);
  const std::uint32_t m = static_cast<std::uint32_t>(t.layout.man_bits);
  const bool ieee = t.specials == fp8::Specials::ieee, extended = t.specials == fp8::Specials::extended;
  const bool one_nan = t.specials == fp8::Specials::fnuz || extended;  // 0x80, or 0xFF unsigned
  const std::uint32_t none = 0x100, special = ieee ? t.inf() : one_nan ? t.canonical_nan() : !t.has_zero ? 0u : none;
  const std::uint32_t sign = 0x80000000u, nan_keep = (nan_keeps_sign(p.nan) ? sign : 0) |
                                                     (p.nan == fp8::NanDecode::keep_payload ? 0x7FFFFFu : 0);
  return {t.all_ones(),
          t.sign_bit(),
          static_cast<std::uint32_t>(32 - t.width()),
          m,
          23 - m,
          static_cast<std::uint32_t>(127 - t.layout.bias()) << 23,
          pow2f(t.layout.emin() - static_cast<int>(m)),
          ieee ? t.all_ones() : 0xFFu,
          special,
          ieee ? 0x7F800000u
          : one_nan && t.is_signed ? (nan_f32(p.nan) | (p.nan == fp8::NanDecode::keep_sign_quiet ? sign : 0)) ^ sign  // 0x80 is negative
          : one_nan                ? nan_f32(p.nan)
                                   : std::bit_cast<std::uint32_t>(pow2f(-t.layout.bias())),
          ieee ? t.inf() : t.specials == fp8::Specials::fn || extended ? t.max_finite() : t.all_ones(),
          extended ? sign : nan_keep,
          extended ? 0x7F800000u : nan_f32(p.nan)};
}

// Integer rounding on the f32 pattern of each lane.
template <class I> struct Fp8Encoder {
  using U = typename I::U;
  U drop, min_exp, max_finite, overflow, inf, neg_inf, nan, nan_sign, nan_payload, sign_bit, zero_floor, nonpos_below, nonpos;
  U abs_mask, fast_low, fast_span, min_normal, rebias, round_half, odd_mask, code_parity;
  typename I::Count man_bits, drop_count;
  typename I::F subnormal_scale;

  explicit Fp8Encoder(const Fp8EncodeConstants& k)
      : drop(I::splat(k.drop)), min_exp(I::splat(k.min_exp)), max_finite(I::splat(k.max_finite)),
        overflow(I::splat(k.overflow)), inf(I::splat(k.inf)), neg_inf(I::splat(k.neg_inf)), nan(I::splat(k.nan)), nan_sign(I::splat(k.nan_sign)),
        nan_payload(I::splat(k.nan_payload)), sign_bit(I::splat(k.sign_bit)), zero_floor(I::splat(k.zero_floor)),
        nonpos_below(I::splat(k.nonpos_below)), nonpos(I::splat(k.nonpos)), abs_mask(I::splat(k.abs_mask)),
        fast_low(I::splat(k.fast_low)), fast_span(I::splat(k.fast_limit - k.fast_low)), min_normal(I::splat(k.min_normal)),
        rebias(I::splat(k.rebias)), round_half(I::splat(k.round_half)), odd_mask(I::splat(k.odd_mask)),
        code_parity(I::splat(k.code_parity)),
        man_bits(I::count(k.man_bits)), drop_count(I::count(k.drop)),
        subnormal_scale(I::splat_f(k.subnormal_scale)) {}

  U sign(U x) const { return I::and_(I::template sra<31>(x), sign_bit); }  // as the code's sign bit

  // The fast path: exact only while every lane is in fast_low .. fast_limit, which `range` collects
  // (the unsigned maximum of lane - fast_low; in_range() tests it). Every value compared signed is
  // below 2^31 there. kUnsignedZero: the format has no -0 (k.unsigned_zero).
  template <bool kNearest, bool kUnsignedZero> U fast(U x, U& range) const {
    const U abs = I::and_(x, abs_mask);
    range = I::max_u(range, I::sub(abs, fast_low));
    U t = abs;  // a normal result: round the f32 pattern at the format's last mantissa bit
    if constexpr (kNearest) {  // + half - 1, then + the odd bit (where half - 1 carried, it rounds up either way)
      t = I::add(abs, round_half);
      t = I::add(t, I::and_(I::shr(t, drop_count), odd_mask));
    }
    const U normal = I::sub(I::shr(t, drop_count), rebias);
    // A subnormal result: |x| scaled exactly to units of the smallest subnormal, then rounded.
    const U subnormal = I::template round<kNearest ? Rounding::rne : Rounding::rtz>(I::mul(I::as_f(abs), subnormal_scale));
    const U mag = I::select(I::gt(min_normal, abs), subnormal, normal);
    const U code = I::or_(mag, sign(x));
    if constexpr (kUnsignedZero) return I::and_not(code, I::eq(code, sign_bit));  // a negative zero result: 0x00
    return code;
  }
  bool in_range(U range) const { return !I::any(I::sub_sat(range, fast_span)); }

  // f32 bit patterns -> codes, one per 32-bit lane.
  template <bool kNearest> U encode(U x) const {
    const U abs = I::and_(x, I::splat(0x7FFFFFFF));
    const U e = I::template shr<23>(abs);
    const U implicit = I::and_(I::gt(e, I::zero()), I::splat(0x800000));
    const U sig = I::or_(I::and_(abs, I::splat(0x7FFFFF)), implicit);
    // Bits of sig below the result's last bit; more for subnormal results (f32's own subnormals
    // are in binade 1). Past 31 every count gives 0, as the value is then below half the smallest
    // subnormal.
    const U below = I::sub_sat(min_exp, I::max_u(e, I::splat(1)));
    const U shift = I::min_u(I::add(drop, below), I::splat(31));
    // ((biased exponent - 1) << m) + kept, the exponent counted from the subnormal binade.
    const U exp_part = I::shl(I::sub_sat(e, min_exp), man_bits);
    U kept;
    if constexpr (kNearest) {  // add half - 1, plus 1 if the truncated code is odd: ties to even
      const U half = I::sub(I::shl_v(I::splat(1), I::sub(shift, I::splat(1))), I::splat(1));
      const U odd = I::and_(I::add(I::shr_v(sig, shift), I::and_(exp_part, code_parity)), I::splat(1));
      kept = I::shr_v(I::add(I::add(sig, half), odd), shift);
    } else {
      kept = I::shr_v(sig, shift);
    }
    U mag = I::add(exp_part, kept);
    mag = I::select(I::gt(mag, max_finite), overflow, mag);
    mag = I::select(I::gt(nonpos_below, x), nonpos, mag);  // unsigned: negatives, E8M0's zero (-Inf, -NaN: below)
    mag = I::select(I::eq(abs, I::splat(0x7F800000)), inf, mag);
    mag = I::select(I::eq(x, I::splat(0xFF800000)), neg_inf, mag);
    const U nan_code = I::or_(I::xor_(nan, I::and_(I::template sra<31>(x), nan_sign)),
                              I::and_(I::shr(abs, drop_count), nan_payload));
    // The sign, but not on a zero of the formats without -0 (0x80 is their NaN).
    const U code = I::or_(mag, I::and_(sign(x), I::gt(mag, zero_floor)));
    return I::select(I::gt(abs, I::splat(0x7F800000)), nan_code, code);
  }
};

template <class I> struct Fp8Decoder {
  using U = typename I::U;
  U mag_mask, sign_bit, rebias, sub_limit, special_mask, special, special_bits, top_above, top_keep, top_bits;
  typename I::Count sign_shift, exp_shift;
  typename I::F scale;

  explicit Fp8Decoder(const Fp8DecodeConstants& k)
      : mag_mask(I::splat(k.mag_mask)), sign_bit(I::splat(k.sign_bit)), rebias(I::splat(k.rebias)),
        sub_limit(I::splat(1u << k.man_bits)), special_mask(I::splat(k.special_mask)), special(I::splat(k.special)),
        special_bits(I::splat(k.special_bits)), top_above(I::splat(k.top_above)), top_keep(I::splat(k.top_keep)),
        top_bits(I::splat(k.top_bits)), sign_shift(I::count(k.sign_shift)),
        exp_shift(I::count(k.exp_shift)), scale(I::splat_f(k.subnormal_scale)) {}

  // Codes in 32-bit lanes -> f32 bit patterns.
  U decode(U c) const {
    const U mag = I::and_(c, mag_mask);
    const U sign = I::shl(I::and_(c, sign_bit), sign_shift);
    const U normal = I::add(I::shl(mag, exp_shift), rebias);
    const U subnormal = I::as_u(I::mul(I::to_f(mag), scale));
    U bits = I::xor_(I::select(I::gt(sub_limit, mag), subnormal, normal), sign);
    bits = I::select(I::gt(mag, top_above), I::or_(I::and_(bits, top_keep), top_bits), bits);
    return I::select(I::eq(I::and_(c, special_mask), special), I::xor_(special_bits, sign), bits);
  }
};

// A block: 4 vectors of elements.
template <class I> constexpr std::size_t kFp8Block = 4 * I::kLanes;

// What the vector code covers: rne and rtz in every format and profile but CUDA's E8M0 (|x|) and the
// formats whose smallest normal is below f32's (binary8p1u*: 2^-127; the lane formulas take an f32 normal
// for it). The rest (rna, sr, the directed roundings, rto) runs the reference: docs/performance.md.
constexpr bool simd_decodes(fp8::Format f) { return 127 + traits(f).layout.emin() >= 1; }
constexpr bool simd_encodes(const fp8::EncodeParams& p) {
  return (p.rounding == Rounding::rne || p.rounding == Rounding::rtz) && simd_decodes(p.format) &&
         (traits(p.format).is_signed || p.below_range != fp8::BelowRange::magnitude);
}

template <class I, class In>
void fp8_encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  if (!simd_encodes(*p)) return ref::fp8_encode_ref(n, in, out, p);
  using U = typename I::U;
  constexpr std::size_t L = I::kLanes;
  const Fp8EncodeConstants k = encode_constants(*p, FloatTraits<In>::layout);
  const Fp8Encoder<I> enc(k);
  auto run = [&]<bool kNearest, bool kUnsignedZero>() {
    for_each_block<kFp8Block<I>>(n, in, out, [&](const In* i, std::uint8_t* o) {
      U x[4], c[4], range = I::zero();
      for (std::size_t v = 0; v < 4; ++v) x[v] = I::as_u(I::load(i + v * L));
      for (std::size_t v = 0; v < 4; ++v) c[v] = enc.template fast<kNearest, kUnsignedZero>(x[v], range);
      if (!enc.in_range(range))  // overflow, Inf or NaN somewhere in the block (E8M0: zero or a negative)
        for (std::size_t v = 0; v < 4; ++v) c[v] = enc.template encode<kNearest>(x[v]);
      I::store(o, c);
    });
  };
  auto with_zero = [&]<bool kNearest>() {
    if (k.unsigned_zero) run.template operator()<kNearest, true>();
    else run.template operator()<kNearest, false>();
  };
  if (k.nearest) with_zero.template operator()<true>();
  else with_zero.template operator()<false>();
}

template <class I, class Out>
void fp8_decode(std::size_t n, const std::uint8_t* in, Out* out, const fp8::DecodeParams* p) {
  if (!simd_decodes(p->format)) return ref::fp8_decode_ref(n, in, out, p);
  const Fp8Decoder<I> dec(decode_constants(*p));
  for_each_block<kFp8Block<I>>(n, in, out, [&](const std::uint8_t* i, Out* o) {
    typename I::U c[4];
    typename I::F v[4];
    I::load(i, c);
    for (std::size_t k = 0; k < 4; ++k) v[k] = I::as_f(dec.decode(c[k]));
    I::store(o, v);  // bf16: exact (no format has more than 7 mantissa bits); f16: rounded as the reference (E8M0, P1, P2)
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
