// The minifloat family: every small binary float lowbit knows (OCP FP8 E4M3/E5M2, ml_dtypes' FNUZ,
// IEEE-style and sub-byte types, the E8M0 scale), each one row of a descriptor table, the named
// profiles that reproduce peers (ml_dtypes, LLVM's APFloat, CUDA) bit for bit, and the one kernel
// signature per operation shared by the reference, every SIMD ISA and (through lowbit/vendor.h)
// vendor plugins. The family keeps the name `fp8` of its first two formats (API and ABI stay
// compatible). docs/formats/fp8.md and docs/formats/minifloat.md are the prose version of this file.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::fp8 {

// The order is the C ABI's (LOWBIT_FP8_*): append only.
enum class Format : std::uint8_t {
  e4m3,         // OCP E4M3FN
  e5m2,         // OCP E5M2
  e4m3fnuz,     // AMD MI300 / GraphCore
  e5m2fnuz,
  e4m3b11fnuz,  // TPU's E4M3 with bias 11
  e3m4,
  e4m3ieee,     // ml_dtypes' float8_e4m3: IEEE-style, with Inf (not OCP's E4M3FN, which is `e4m3`)
  e8m0,         // the OCP MX scale: unsigned powers of two
  e2m3,         // OCP FP6
  e3m2,         // OCP FP6
  e2m1,         // OCP FP4
  // IEEE P3109 binary8pP, signed, extended (s e: +-Inf) and finite (s f) domains: P - 1 mantissa bits.
  binary8p1se, binary8p1sf, binary8p2se, binary8p2sf, binary8p3se, binary8p3sf, binary8p4se, binary8p4sf,
  binary8p5se, binary8p5sf, binary8p6se, binary8p6sf, binary8p7se, binary8p7sf,
  // IEEE P3109 binary8pP, unsigned (u e, u f): no sign bit, 9 - P exponent bits; negatives clamp to 0.
  binary8p1ue, binary8p1uf, binary8p2ue, binary8p2uf, binary8p3ue, binary8p3uf, binary8p4ue, binary8p4uf,
  binary8p5ue, binary8p5uf, binary8p6ue, binary8p6uf, binary8p7ue, binary8p7uf, binary8p8ue, binary8p8uf,
};

// What the codes with the largest exponent field (and 0x80) mean.
enum class Specials : std::uint8_t {
  ieee,    // exponent field all ones: +-Inf (mantissa 0) and NaN (otherwise)
  fn,      // no Inf; only the all-ones magnitude is NaN (one NaN per sign; E8M0 and P3109's unsigned
           // finite domain: 0xFF)
  fnuz,      // no Inf, no -0: 0x80, negative zero's code, is the one NaN
  finite,    // no Inf, no NaN: every code is a number
  extended,  // P3109's extended domain: no -0, 0x80 is the one NaN, the all-ones magnitude is +-Inf;
             // unsigned: 0xFF is the NaN, 0xFE +Inf
};

// The descriptor: everything a codec needs to know about a format.
struct Traits {
  std::string_view name;       // lowbit's name
  std::string_view ml_dtypes;  // ml_dtypes' name, accepted verbatim
  BinaryLayout layout;         // exponent and mantissa bits, the bias
  bool is_signed;              // E8M0 has no sign bit
  Specials specials;
  // No mantissa bits (E8M0, P3109 P1): a tie goes to the even code (P3109); otherwise up, as the
  // significand, the implicit 1, is odd (ml_dtypes). With mantissa bits both rules are ties-to-even.
  bool ties_to_even_code = false;
  bool has_zero = true;  // E8M0 has none: its code 0 is 2^-127, and no exponent field is subnormal

  constexpr int width() const { return (is_signed ? 1 : 0) + layout.exp_bits + layout.man_bits; }
  constexpr unsigned codes() const { return 1u << width(); }
  constexpr std::uint8_t sign_bit() const { return is_signed ? static_cast<std::uint8_t>(1u << (width() - 1)) : 0; }
  constexpr std::uint8_t all_ones() const { return static_cast<std::uint8_t>((1u << (width() - (is_signed ? 1 : 0))) - 1); }
  constexpr std::uint8_t inf() const {  // magnitude code of Inf (ieee, extended)
    if (specials == Specials::extended) return static_cast<std::uint8_t>(all_ones() - (is_signed ? 0 : 1));
    return static_cast<std::uint8_t>(((1u << layout.exp_bits) - 1) << layout.man_bits);
  }
  constexpr std::uint8_t max_finite() const {  // magnitude code of the largest finite value
    switch (specials) {
      case Specials::ieee:
      case Specials::extended: return static_cast<std::uint8_t>(inf() - 1);
      case Specials::fn: return static_cast<std::uint8_t>(all_ones() - 1);
      default: return all_ones();
    }
  }
  // The NaN code lowbit writes by default (before its sign); ml_dtypes' quiet NaN.
  constexpr std::uint8_t canonical_nan() const {
    switch (specials) {
      case Specials::ieee: return static_cast<std::uint8_t>(inf() | (1u << (layout.man_bits - 1)));
      case Specials::fn: return all_ones();
      case Specials::fnuz:
      case Specials::extended: return is_signed ? 0x80 : all_ones();
      case Specials::finite: return 0;  // none
    }
    return 0;
  }
  constexpr bool has_inf() const { return specials == Specials::ieee || specials == Specials::extended; }
  constexpr bool has_nan() const { return specials != Specials::finite; }
  constexpr bool unsigned_zero() const { return specials == Specials::fnuz || specials == Specials::extended; }
  constexpr bool has_negative_zero() const { return is_signed && !unsigned_zero(); }
  constexpr bool is_nan(std::uint8_t code) const {
    const std::uint8_t mag = code & all_ones();
    switch (specials) {
      case Specials::ieee: return mag > inf();
      case Specials::fn: return mag == all_ones();
      case Specials::fnuz:
      case Specials::extended: return code == canonical_nan();
      case Specials::finite: return false;
    }
    return false;
  }
};

// P3109 binary8pP: P - 1 mantissa bits, 8 - P exponent bits (signed) or 9 - P (unsigned), bias the
// IEEE bias + 1 (2^(7 - P) signed, 2^(8 - P) unsigned), no -0. Signed: 0x80 NaN, the finite domain is
// Specials::fnuz (E4M3FNUZ is binary8p4sf's code table). Unsigned: 0xFF NaN, the finite domain is
// Specials::fn (0xFE its largest value).
constexpr std::string_view kP3109Names[] = {
    "binary8p1se", "binary8p1sf", "binary8p2se", "binary8p2sf", "binary8p3se", "binary8p3sf", "binary8p4se",
    "binary8p4sf", "binary8p5se", "binary8p5sf", "binary8p6se", "binary8p6sf", "binary8p7se", "binary8p7sf",
    "binary8p1ue", "binary8p1uf", "binary8p2ue", "binary8p2uf", "binary8p3ue", "binary8p3uf", "binary8p4ue",
    "binary8p4uf", "binary8p5ue", "binary8p5uf", "binary8p6ue", "binary8p6uf", "binary8p7ue", "binary8p7uf",
    "binary8p8ue", "binary8p8uf"};
constexpr Traits p3109(int p, bool extended, bool is_signed = true) {
  const Specials finite = is_signed ? Specials::fnuz : Specials::fn;
  return {kP3109Names[(is_signed ? 0 : 14) + 2 * (p - 1) + (extended ? 0 : 1)], "",
          {(is_signed ? 8 : 9) - p, p - 1, 1}, is_signed, extended ? Specials::extended : finite, true};
}

inline constexpr std::array kTraits{
    Traits{"e4m3", "float8_e4m3fn", {4, 3}, true, Specials::fn},
    Traits{"e5m2", "float8_e5m2", {5, 2}, true, Specials::ieee},
    Traits{"e4m3fnuz", "float8_e4m3fnuz", {4, 3, 1}, true, Specials::fnuz},
    Traits{"e5m2fnuz", "float8_e5m2fnuz", {5, 2, 1}, true, Specials::fnuz},
    Traits{"e4m3b11fnuz", "float8_e4m3b11fnuz", {4, 3, 4}, true, Specials::fnuz},
    Traits{"e3m4", "float8_e3m4", {3, 4}, true, Specials::ieee},
    Traits{"e4m3ieee", "float8_e4m3", {4, 3}, true, Specials::ieee},
    Traits{"e8m0", "float8_e8m0fnu", {8, 0}, false, Specials::fn, false, false},
    Traits{"e2m3", "float6_e2m3fn", {2, 3}, true, Specials::finite},
    Traits{"e3m2", "float6_e3m2fn", {3, 2}, true, Specials::finite},
    Traits{"e2m1", "float4_e2m1fn", {2, 1}, true, Specials::finite},
    p3109(1, true), p3109(1, false), p3109(2, true), p3109(2, false), p3109(3, true), p3109(3, false),
    p3109(4, true), p3109(4, false), p3109(5, true), p3109(5, false), p3109(6, true), p3109(6, false),
    p3109(7, true), p3109(7, false),
    p3109(1, true, false), p3109(1, false, false), p3109(2, true, false), p3109(2, false, false),
    p3109(3, true, false), p3109(3, false, false), p3109(4, true, false), p3109(4, false, false),
    p3109(5, true, false), p3109(5, false, false), p3109(6, true, false), p3109(6, false, false),
    p3109(7, true, false), p3109(7, false, false), p3109(8, true, false), p3109(8, false, false),
};

constexpr const Traits& traits(Format f) { return kTraits[static_cast<std::size_t>(f)]; }

// Every format, in the enum's order.
inline constexpr auto kFormats = [] {
  std::array<Format, kTraits.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<Format>(i);
  return out;
}();

constexpr bool is_nan(Format f, std::uint8_t code) { return traits(f).is_nan(code); }

// lowbit's names, ml_dtypes' names verbatim, gfloat's P3109 names (p3109_k8p4se), e4m3fn (LLVM's
// spelling of E4M3) and e8m0fnu.
constexpr std::optional<Format> parse_format(std::string_view s) {
  if (s.starts_with("p3109_k8p")) {
    for (Format f : kFormats)
      if (traits(f).name.starts_with("binary8p") && traits(f).name.substr(8) == s.substr(9)) return f;
    return std::nullopt;
  }
  for (Format f : kFormats)
    if (traits(f).name == s || (!traits(f).ml_dtypes.empty() && traits(f).ml_dtypes == s)) return f;
  if (s == "e4m3fn") return Format::e4m3;
  if (s == "e8m0fnu") return Format::e8m0;
  return std::nullopt;
}

// A set of formats, one bit per Format.
using FormatSet = std::uint64_t;
constexpr FormatSet format_bit(Format f) { return FormatSet{1} << static_cast<unsigned>(f); }
inline constexpr FormatSet kMlDtypes = (format_bit(Format::e2m1) << 1) - 1;  // e4m3 .. e2m1
inline constexpr FormatSet kAllFormats = (FormatSet{1} << kFormats.size()) - 1;
inline constexpr FormatSet kP3109 = kAllFormats & ~kMlDtypes;
inline constexpr FormatSet kOcpFp8 = format_bit(Format::e4m3) | format_bit(Format::e5m2);
inline constexpr FormatSet kCudaNosat = kOcpFp8 | format_bit(Format::e8m0);  // cuda_fp8.h
inline constexpr FormatSet kCudaSatfinite =  // and cuda_fp6.h / cuda_fp4.h, which always saturate
    kCudaNosat | format_bit(Format::e2m3) | format_bit(Format::e3m2) | format_bit(Format::e2m1);
inline constexpr FormatSet kFnuz =
    format_bit(Format::e4m3fnuz) | format_bit(Format::e5m2fnuz) | format_bit(Format::e4m3b11fnuz);
// APFloat's Float8E4M3FN, Float8E5M2 (LLVM 16, measured) and its FNUZ semantics (LLVM 17, read from source).
inline constexpr FormatSet kLlvm = kOcpFp8 | kFnuz;

// How a NaN input is encoded. Resolved per profile and source type (see nan_encode below). Formats
// without NaN: keep_sign and same_width_payload give ml_dtypes' quiet_NaN(), the -0 code, negated by
// the sign (+NaN -> -0, -NaN -> +0); keep_sign_payload and positive_ones give +max (CUDA's FP4/FP6
// conversions, from every source type).
enum class NanEncode : std::uint8_t {
  keep_sign,          // sign | canonical NaN
  keep_sign_payload,  // IEEE-style formats: sign | canonical NaN | the source mantissa's top bits that fit (APFloat)
  same_width_payload, // keep_sign_payload where the format has the source's exponent width, else keep_sign
                      // (ml_dtypes' f16 -> E5M2 path, (h >> 8) | 0x02)
  positive_ones,      // the all-ones magnitude, positive, whatever the sign (CUDA canonicalises float NaNs first)
};

// How a NaN code is decoded.
enum class NanDecode : std::uint8_t {
  keep_sign_quiet,  // sign | the destination's default quiet NaN (f32 0x7FC00000, f16 0x7E00, bf16 0x7FC0)
  cuda,             // via CUDA's half 0x7FFF, sign dropped: f16 0x7FFF, f32 0x7FFFE000, bf16 0x7FFF
  quiet,            // the destination's default quiet NaN, positive (P3109's NaN has no sign)
  keep_payload,     // sign | quiet bit | the code's mantissa at the top of the destination's (APFloat); the
                    // FNUZ NaN 0x80 has none: the positive quiet NaN (APFloat's makeNaN(false, false))
};

// What an unsigned format (E8M0, P3109's unsigned formats) makes of a negative input (and E8M0 of a zero).
enum class BelowRange : std::uint8_t {
  nan,        // ml_dtypes: NaN; saturating finite values, the smallest code (0x00); -Inf stays NaN
  magnitude,  // CUDA: the sign is ignored (|x| is converted); E8M0's zero -> 0x00 (2^-127)
  zero,       // P3109: clamped to 0 (Saturate's M^lo) after rounding: every negative, -Inf too, -> 0x00
};

struct Profile {
  std::string_view name;
  FormatSet formats;     // the formats its peer has
  bool saturate_finite;  // a finite value beyond max finite -> +-max instead of NaN / Inf
  bool saturate_inf;     // +-Inf -> +-max finite
  bool rtz_saturates;    // toward zero never overflows (IEEE 754 7.4); false: it overflows like rne past max + 1 step
                         // (the other directed roundings follow IEEE 754 7.4 in every profile)
  bool e8m0_wraps;       // ml_dtypes' carry bug: f64 values in [1.5 2^128, 2^129) -> E8M0 0x00 (2^-127)
  NanEncode nan_f32, nan_f64, nan_f16, nan_bf16;
  NanDecode nan_decode;
  BelowRange below_range;
  std::string_view summary;
};

inline constexpr std::array kProfiles{
    Profile{"ml_dtypes", kMlDtypes, false, false, false, true, NanEncode::keep_sign, NanEncode::keep_sign,
            NanEncode::same_width_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet, BelowRange::nan,
            "ml_dtypes / PyTorch casts: overflow -> NaN or Inf (rtz too, past max + 1 step); NaN keeps its sign"},
    Profile{"ml_dtypes-sat", kMlDtypes, true, false, false, true, NanEncode::keep_sign, NanEncode::keep_sign,
            NanEncode::same_width_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet, BelowRange::nan,
            "ml_dtypes ConvertFrom<kSaturate=true>: finite overflow -> max; Inf stays NaN/Inf"},
    Profile{"llvm", kLlvm, false, false, true, false, NanEncode::keep_sign_payload, NanEncode::keep_sign_payload,
            NanEncode::keep_sign_payload, NanEncode::keep_sign_payload, NanDecode::keep_payload, BelowRange::nan,
            "LLVM APFloat::convert (constant-folded casts): rtz never overflows (IEEE 754 7.4); NaN keeps a payload bit"},
    Profile{"cuda-nosat", kCudaNosat, false, false, true, false, NanEncode::positive_ones, NanEncode::keep_sign_payload,
            NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda, BelowRange::magnitude,
            "CUDA __NV_NOSAT host conversions: float/half/bf16 NaN -> 0x7F, double NaN keeps sign"},
    Profile{"cuda-satfinite", kCudaSatfinite, true, true, true, false, NanEncode::positive_ones, NanEncode::keep_sign_payload,
            NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda, BelowRange::magnitude,
            "CUDA __NV_SATFINITE host conversions: finite overflow and Inf -> max"},
    // P3109's saturation modes (interim report v3.1, as gfloat implements it); NaN -> 0x80.
    Profile{"p3109", kP3109, false, false, true, false, NanEncode::keep_sign, NanEncode::keep_sign,
            NanEncode::keep_sign, NanEncode::keep_sign, NanDecode::quiet, BelowRange::zero,
            "P3109 OvfInf: overflow -> Inf (extended domain) or NaN (finite domain); toward zero never overflows"},
    Profile{"p3109-satfinite", kP3109, true, true, true, false, NanEncode::keep_sign, NanEncode::keep_sign,
            NanEncode::keep_sign, NanEncode::keep_sign, NanDecode::quiet, BelowRange::zero,
            "P3109 SatFinite: finite overflow and +-Inf -> +-max"},
    Profile{"p3109-satpropagate", kP3109, true, false, true, false, NanEncode::keep_sign, NanEncode::keep_sign,
            NanEncode::keep_sign, NanEncode::keep_sign, NanDecode::quiet, BelowRange::zero,
            "P3109 SatPropagate: finite overflow -> +-max, +-Inf stays Inf (NaN in the finite domain)"},
};

constexpr bool applies(const Profile& p, Format f) { return (p.formats & format_bit(f)) != 0; }

// ml_dtypes; for a format ml_dtypes does not have, the first profile that applies (P3109: p3109).
constexpr const Profile& default_profile() { return kProfiles[0]; }
constexpr const Profile& default_profile(Format f) {
  for (const Profile& p : kProfiles)
    if (applies(p, f)) return p;
  return kProfiles[0];
}

// The profile a conversion of `f` uses when `p` is asked for: p where it applies; the default profile
// (ml_dtypes) stands for the format's own default (p3109 for P3109 formats); nullptr otherwise.
constexpr const Profile* resolve_profile(const Profile& p, Format f) {
  if (applies(p, f)) return &p;
  if (p.name == default_profile().name) return &default_profile(f);
  return nullptr;
}

constexpr const Profile* find_profile(std::string_view s) {
  for (const Profile& p : kProfiles)
    if (p.name == s) return &p;
  return nullptr;
}


constexpr NanEncode nan_encode(const Profile& p, FloatType source) {
  switch (source) {
    case FloatType::f32: return p.nan_f32;
    case FloatType::f64: return p.nan_f64;
    case FloatType::f16: return p.nan_f16;
    case FloatType::bf16: return p.nan_bf16;
  }
  return p.nan_f32;
}

// ---- kernels ----------------------------------------------------------------------------------------

// A profile resolved for one source type: everything an encode kernel needs, nothing more.
struct EncodeParams {
  Format format;
  Rounding rounding;
  bool saturate_finite;
  bool saturate_inf;
  bool rtz_saturates;
  bool e8m0_wraps;
  NanEncode nan;
  BelowRange below_range;
  std::uint64_t seed;                // Philox-4x32-10 key for Rounding::sr
  std::uint64_t index0;              // global element index of in[0]: picks the Philox counter
  const std::uint32_t* random_bits;  // sr only: word i for in[i]; null = Philox(seed)
};

struct DecodeParams {
  Format format;
  NanDecode nan;
};

constexpr EncodeParams encode_params(Format f, const Profile& p, FloatType source,
                                             Rounding r = Rounding::rne, std::uint64_t seed = 0) {
  return {f, r, p.saturate_finite, p.saturate_inf, p.rtz_saturates, p.e8m0_wraps, nan_encode(p, source), p.below_range,
          seed, 0, nullptr};
}
// Whether a finite value past the largest finite one becomes +-max rather than Inf or NaN: the profile
// saturates, or the rounding goes toward zero for the value's sign (IEEE 754 7.4: rtz where the profile's
// rtz saturates, rtn of a positive value, rtp of a negative one), or it is rto in an unsigned format
// (P3109's Saturate: the largest value of an unsigned format is odd).
constexpr bool overflow_saturates(const EncodeParams& p, bool negative) {
  if (p.saturate_finite) return true;
  if (p.rounding == Rounding::rtz) return p.rtz_saturates;
  if (p.rounding == Rounding::rto) return !traits(p.format).is_signed;
  return on_magnitude(p.rounding, negative) == Rounding::rtz;
}
constexpr DecodeParams decode_params(Format f, const Profile& p) {
  return {f, p.nan_decode};
}

template <class In>
using EncodeFn = void (*)(std::size_t n, const In* in, std::uint8_t* out,
                             const EncodeParams* params);
template <class Out>
using DecodeFn = void (*)(std::size_t n, const std::uint8_t* in, Out* out,
                             const DecodeParams* params);

// An implementation: one row of the kernel list (optimized/include/lowbit/kernels.inc), or a vendor plugin. A null
// function means "not provided": dispatch then uses the reference for that operation.
struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn<float> encode_f32 = nullptr;
  EncodeFn<double> encode_f64 = nullptr;
  EncodeFn<f16> encode_f16 = nullptr;
  EncodeFn<bf16> encode_bf16 = nullptr;
  DecodeFn<float> decode_f32 = nullptr;
  DecodeFn<f16> decode_f16 = nullptr;
  DecodeFn<bf16> decode_bf16 = nullptr;
};

template <class In> constexpr EncodeFn<In> Impl::* encode_slot();
template <> constexpr EncodeFn<float> Impl::* encode_slot<float>() { return &Impl::encode_f32; }
template <> constexpr EncodeFn<double> Impl::* encode_slot<double>() { return &Impl::encode_f64; }
template <> constexpr EncodeFn<f16> Impl::* encode_slot<f16>() { return &Impl::encode_f16; }
template <> constexpr EncodeFn<bf16> Impl::* encode_slot<bf16>() { return &Impl::encode_bf16; }

template <class Out> constexpr DecodeFn<Out> Impl::* decode_slot();
template <> constexpr DecodeFn<float> Impl::* decode_slot<float>() { return &Impl::decode_f32; }
template <> constexpr DecodeFn<f16> Impl::* decode_slot<f16>() { return &Impl::decode_f16; }
template <> constexpr DecodeFn<bf16> Impl::* decode_slot<bf16>() { return &Impl::decode_bf16; }

}  // namespace lowbit::fp8
