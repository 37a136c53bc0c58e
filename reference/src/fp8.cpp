#include "lowbit/reference/fp8.hpp"

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::ref {
namespace {

std::uint8_t nan_code(const fp8::Traits& t, const fp8::EncodeParams& p, std::uint8_t sign,
                      const Unpacked& u, BinaryLayout source) {
  switch (p.nan) {
    case fp8::NanEncode::keep_sign: return sign | t.canonical_nan;
    case fp8::NanEncode::keep_sign_payload:
      if (!t.has_inf) return sign | t.canonical_nan;  // E4M3 has one NaN per sign
      return sign | 0x7E | ((u.mantissa >> (source.man_bits - 2)) & 1);
    case fp8::NanEncode::positive_ones: return 0x7F;
  }
  return 0x7F;
}

}  // namespace

std::uint32_t sr_word(const fp8::EncodeParams& p, std::size_t i) {
  return p.random_bits ? p.random_bits[i] : philox_word(p.seed, p.index0 + i);
}

template <class T> std::uint8_t fp8_encode(T x, const fp8::EncodeParams& p, std::uint32_t random) {
  const fp8::Traits& t = traits(p.format);
  const Unpacked u = unpack(x);
  const std::uint8_t sign = u.sign ? 0x80 : 0x00;
  switch (u.kind) {
    case Unpacked::Kind::nan: return nan_code(t, p, sign, u, FloatTraits<T>::layout);
    case Unpacked::Kind::inf:
      if (p.saturate_inf) return sign | t.max_finite;
      return sign | (t.has_inf ? t.inf : t.canonical_nan);
    case Unpacked::Kind::zero: return sign;
    case Unpacked::Kind::finite: break;
  }
  const std::uint64_t mag = round_magnitude(u.sig, u.exp, t.layout, p.rounding, random);
  if (mag <= t.max_finite) return sign | static_cast<std::uint8_t>(mag);
  // Overflow. Toward zero never rounds past the largest finite value (IEEE 754 7.4).
  if (p.saturate_finite || p.rounding == Rounding::rtz) return sign | t.max_finite;
  return sign | (t.has_inf ? t.inf : t.canonical_nan);
}

template <class T> T fp8_decode(std::uint8_t code, const fp8::DecodeParams& p) {
  using Tr = FloatTraits<T>;
  using Bits = typename Tr::Bits;
  const BinaryLayout out = Tr::layout;
  const fp8::Traits& t = traits(p.format);
  const bool sign = code & 0x80;
  const std::uint8_t mag = code & 0x7F;
  const Bits sign_bit = static_cast<Bits>(Bits{sign} << (out.total_bits() - 1));
  const Bits exp_ones = static_cast<Bits>(((Bits{1} << out.exp_bits) - 1) << out.man_bits);
  if (is_nan(p.format, code)) {
    if (p.nan == fp8::NanDecode::cuda) {  // CUDA returns half 0x7FFF and widens it
      const Bits all = static_cast<Bits>(exp_ones | ((Bits{1} << out.man_bits) - 1));
      return Tr::from_bits(out.man_bits >= 10 ? static_cast<Bits>(all & ~((Bits{1} << (out.man_bits - 10)) - 1)) : all);
    }
    return Tr::from_bits(sign_bit | exp_ones | static_cast<Bits>(Bits{1} << (out.man_bits - 1)));
  }
  if (t.has_inf && mag == t.inf) return Tr::from_bits(sign_bit | exp_ones);
  const int m = t.layout.man_bits;
  const unsigned e_field = mag >> m;
  const std::uint64_t man = mag & ((1u << m) - 1);
  const std::uint64_t sig = e_field == 0 ? man : man | (1u << m);
  const int exp = (e_field == 0 ? t.layout.emin() : static_cast<int>(e_field) - t.layout.bias()) - m;
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
