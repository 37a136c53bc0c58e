// Exact unpacking and rounding of binary floating-point values, shared by every codec that
// converts between binary formats. A finite value is held exactly as sig * 2^exp.
#pragma once
#include <cstdint>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::ref {

struct Unpacked {
  enum class Kind : std::uint8_t { zero, finite, inf, nan };
  Kind kind;
  bool sign;
  std::uint64_t sig;       // finite: the integer significand (implicit bit included)
  int exp;                 // finite: value = sig * 2^exp
  std::uint64_t mantissa;  // the raw mantissa field (NaN payloads)
};

Unpacked unpack(std::uint64_t bits, BinaryLayout layout);

template <class T> Unpacked unpack(T x) {
  return unpack(static_cast<std::uint64_t>(FloatTraits<T>::to_bits(x)), FloatTraits<T>::layout);
}

// sig * 2^-shift rounded to an integer (exact when shift <= 0). `random` is used by
// Rounding::sr only: the round-up happens iff F + random >= 2^32, where F is the 32 bits of the
// value immediately below the integer's last bit (bits further down are dropped). `odd_offset`:
// rne's tie goes to the integer i with i + odd_offset even; rto's inexact result to the one with
// i + odd_offset odd. Magnitude roundings only: map rtp and rtn with on_magnitude() first.
std::uint64_t round_shifted(std::uint64_t sig, int shift, Rounding rounding, std::uint32_t random = 0,
                            std::uint64_t odd_offset = 0);

// Rounds the positive value sig * 2^exp to `layout` as if its exponent range were unbounded
// above, and returns the magnitude bits (biased exponent << man_bits | mantissa). A result above
// the format's largest finite code means overflow; the caller decides what that becomes.
// `random`: as round_shifted, at the result's last mantissa bit. `even_code`: with no mantissa bits,
// a tie goes to the even magnitude code, not up (fp8::Traits::ties_to_even_code); rto always takes
// the odd code.
std::uint64_t round_magnitude(std::uint64_t sig, int exp, BinaryLayout layout, Rounding rounding,
                              std::uint32_t random = 0, bool even_code = false);

// Packs (-1)^sign * sig * 2^exp into the IEEE `layout`, rounding to nearest even; a value too
// large becomes Inf. Decoders use it: their values are exact in every destination but the
// extreme exponent offsets of GSE, where this is the one rounding.
std::uint64_t pack_nearest(bool sign, std::uint64_t sig, int exp, BinaryLayout layout);

// x in another binary format, rounded to nearest even (Inf on overflow); NaN keeps its sign and
// becomes the default quiet NaN. Tests and benchmarks use it to make f16/bf16 data portably.
template <class To, class From> To convert_nearest(From x) {
  using Bits = typename FloatTraits<To>::Bits;
  const BinaryLayout L = FloatTraits<To>::layout;
  const Unpacked u = unpack(x);
  const std::uint64_t sign = std::uint64_t{u.sign} << (L.total_bits() - 1);
  const std::uint64_t inf = ((std::uint64_t{1} << L.exp_bits) - 1) << L.man_bits;
  std::uint64_t bits = sign;
  if (u.kind == Unpacked::Kind::nan) bits |= inf | (std::uint64_t{1} << (L.man_bits - 1));
  else if (u.kind == Unpacked::Kind::inf) bits |= inf;
  else if (u.kind == Unpacked::Kind::finite) bits = pack_nearest(u.sign, u.sig, u.exp, L);
  return FloatTraits<To>::from_bits(static_cast<Bits>(bits));
}

}  // namespace lowbit::ref
