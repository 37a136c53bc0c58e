#include "lowbit/reference/fp8.hpp"

#include <bit>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::ref {
namespace {

// A NaN input. `source`: the input's layout, for the payload bits kept by keep_sign_payload.
std::uint8_t nan_code(const fp8::Traits& t, fp8::NanEncode nan, std::uint8_t sign, const Unpacked& u,
                      BinaryLayout source) {
  const bool ml_dtypes_nan = nan == fp8::NanEncode::keep_sign || nan == fp8::NanEncode::same_width_payload;
  if (nan == fp8::NanEncode::positive_ones || (t.specials == fp8::Specials::finite && !ml_dtypes_nan))
    return t.all_ones();
  switch (t.specials) {
    case fp8::Specials::fnuz:
    case fp8::Specials::extended: return t.canonical_nan();  // one NaN, no sign
    case fp8::Specials::fn: return sign | t.all_ones();
    case fp8::Specials::finite: return sign ? 0 : t.sign_bit();  // ml_dtypes: quiet_NaN() is -0, negated by the sign
    case fp8::Specials::ieee: break;
  }
  if (nan == fp8::NanEncode::keep_sign ||
      (nan == fp8::NanEncode::same_width_payload && t.layout.exp_bits != source.exp_bits))
    return sign | t.canonical_nan();
  // The source mantissa's top bits that fit, the quiet bit set (E5M2 from f16: h >> 8 | 0x02).
  const int m = t.layout.man_bits;
  const std::uint64_t top = u.mantissa >> (source.man_bits - m);
  return sign | t.canonical_nan() | static_cast<std::uint8_t>(top);
}

// What a value past the largest finite one becomes: +-max when saturating, else Inf or NaN.
std::uint8_t overflow_code(const fp8::Traits& t, std::uint8_t sign, bool saturate) {
  if (saturate || t.specials == fp8::Specials::finite) return sign | t.max_finite();
  if (t.has_inf()) return sign | t.inf();
  return t.specials == fp8::Specials::fnuz ? 0x80 : sign | t.canonical_nan();  // the FNUZ NaN has no sign
}

}  // namespace

std::uint32_t sr_word(const fp8::EncodeParams& p, std::size_t i) {
  return p.random_bits ? p.random_bits[i] : philox_word(p.seed, p.index0 + i);
}

template <class T> std::uint8_t fp8_encode(T x, const fp8::EncodeParams& p, std::uint32_t random) {
  const fp8::Traits& t = traits(p.format);
  const Unpacked u = unpack(x);
  if (u.kind == Unpacked::Kind::nan) return nan_code(t, p.nan, u.sign ? t.sign_bit() : 0, u, FloatTraits<T>::layout);
  // An unsigned format's negative inputs (fp8::BelowRange); CUDA converts |x|, read on as positive.
  if (!t.is_signed && u.sign && p.below_range != fp8::BelowRange::magnitude) {
    if (p.below_range == fp8::BelowRange::zero) return 0;
    return p.saturate_finite && u.kind != Unpacked::Kind::inf ? 0 : t.canonical_nan();
  }
  const bool negative = u.sign && t.is_signed;
  const std::uint8_t sign = negative ? t.sign_bit() : 0;
  switch (u.kind) {
    case Unpacked::Kind::inf: return overflow_code(t, sign, p.saturate_inf);
    case Unpacked::Kind::zero:  // E8M0 has no zero: NaN, or its smallest value when saturating (CUDA: always)
      if (!t.has_zero)
        return p.saturate_finite || p.below_range == fp8::BelowRange::magnitude ? 0 : t.canonical_nan();
      return t.has_negative_zero() ? sign : 0;
    default: break;
  }
  const Rounding rounding = on_magnitude(p.rounding, negative);
  // E8M0's code 0 is 2^-127, though its rounding treats it as a zero (ml_dtypes): the value itself
  // stays code 0 in every rounding (rna and sr would otherwise round the "tie" up), and so does every
  // smaller value rounded away from zero (2^-127 is the smallest value above it).
  const int top = static_cast<int>(std::bit_width(u.sig)) - 1 + u.exp;  // |x| in [2^top, 2^(top+1))
  if (!t.has_zero) {
    const int smallest = t.layout.emin() - 1;
    if ((std::has_single_bit(u.sig) && top == smallest) || (rounding == Rounding::rta && top < smallest)) return 0;
  }
  const std::uint64_t mag = round_magnitude(u.sig, u.exp, t.layout, rounding, random, t.ties_to_even_code);
  // ml_dtypes adds the rounding carry to an 8-bit biased exponent: out of 2^128's binade it wraps to 0.
  if (p.e8m0_wraps && !t.has_zero && mag == 256 && top == 128) return 0;
  if (mag == 0 && !t.has_negative_zero()) return 0;
  if (mag <= t.max_finite()) return sign | static_cast<std::uint8_t>(mag);
  return overflow_code(t, sign, overflow_saturates(p, negative));
}

template <class T> T fp8_decode(std::uint8_t code, const fp8::DecodeParams& p) {
  using Tr = FloatTraits<T>;
  using Bits = typename Tr::Bits;
  const BinaryLayout out = Tr::layout;
  const fp8::Traits& t = traits(p.format);
  const bool sign = code & t.sign_bit();
  const std::uint8_t mag = code & t.all_ones();
  const Bits sign_bit = static_cast<Bits>(Bits{sign} << (out.total_bits() - 1));
  const Bits exp_ones = static_cast<Bits>(((Bits{1} << out.exp_bits) - 1) << out.man_bits);
  if (t.is_nan(code)) {
    if (p.nan == fp8::NanDecode::cuda) {  // CUDA returns half 0x7FFF and widens it
      const Bits all = static_cast<Bits>(exp_ones | ((Bits{1} << out.man_bits) - 1));
      return Tr::from_bits(out.man_bits >= 10 ? static_cast<Bits>(all & ~((Bits{1} << (out.man_bits - 10)) - 1)) : all);
    }
    // ml_dtypes keeps the sign bit: the FNUZ NaN 0x80 decodes negative. P3109's NaN has no sign, nor
    // APFloat's FNUZ NaN.
    const bool one_nan = t.specials == fp8::Specials::fnuz || t.specials == fp8::Specials::extended;
    const bool keeps_sign = p.nan == fp8::NanDecode::keep_sign_quiet || (p.nan == fp8::NanDecode::keep_payload && !one_nan);
    const Bits nan_sign = keeps_sign ? sign_bit : 0;
    const Bits payload = p.nan == fp8::NanDecode::keep_payload
                             ? static_cast<Bits>(Bits{mag} << (out.man_bits - t.layout.man_bits)) & ((Bits{1} << out.man_bits) - 1)
                             : 0;
    return Tr::from_bits(static_cast<Bits>(nan_sign | exp_ones | payload | (Bits{1} << (out.man_bits - 1))));
  }
  if (t.has_inf() && mag == t.inf()) return Tr::from_bits(sign_bit | exp_ones);
  const int m = t.layout.man_bits;
  const unsigned e_field = mag >> m;
  const std::uint64_t man = mag & ((1u << m) - 1);
  // E8M0 has no subnormals: code 0 is 2^-127.
  const bool subnormal = e_field == 0 && t.has_zero;
  const std::uint64_t sig = subnormal ? man : man | (1u << m);
  const int exp = (subnormal ? t.layout.emin() : static_cast<int>(e_field) - t.layout.bias()) - m;
  return Tr::from_bits(static_cast<Bits>(pack_nearest(sign, sig, exp, out)));
}

template <class T>
void fp8_encode_ref(std::size_t n, const T* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = fp8_encode(in[i], *p, p->rounding == Rounding::sr ? sr_word(*p, i) : 0);
}

template <class T>
void fp8_decode_ref(std::size_t n, const std::uint8_t* in, T* out, const fp8::DecodeParams* p) {
  for (std::size_t i = 0; i < n; ++i) out[i] = fp8_decode<T>(in[i], *p);
}

#define LOWBIT_INSTANTIATE(T)                                                                   \
  template std::uint8_t fp8_encode<T>(T, const fp8::EncodeParams&, std::uint32_t);                \
  template void fp8_encode_ref<T>(std::size_t, const T*, std::uint8_t*, const fp8::EncodeParams*);
LOWBIT_INSTANTIATE(float)
LOWBIT_INSTANTIATE(double)
LOWBIT_INSTANTIATE(f16)
LOWBIT_INSTANTIATE(bf16)
#undef LOWBIT_INSTANTIATE
#define LOWBIT_INSTANTIATE(T)                                                    \
  template T fp8_decode<T>(std::uint8_t, const fp8::DecodeParams&);                \
  template void fp8_decode_ref<T>(std::size_t, const std::uint8_t*, T*, const fp8::DecodeParams*);
LOWBIT_INSTANTIATE(float)
LOWBIT_INSTANTIATE(f16)
LOWBIT_INSTANTIATE(bf16)
#undef LOWBIT_INSTANTIATE


}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const fp8::Impl fp8_reference{
    .encode_f32 = fp8_encode_ref<float>,
    .encode_f64 = fp8_encode_ref<double>,
    .encode_f16 = fp8_encode_ref<f16>,
    .encode_bf16 = fp8_encode_ref<bf16>,
    .decode_f32 = fp8_decode_ref<float>,
    .decode_f16 = fp8_decode_ref<f16>,
    .decode_bf16 = fp8_decode_ref<bf16>,
};

}  // namespace lowbit::kernels
