#include "lowbit/reference/binary_float.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace lowbit::ref {

Unpacked unpack(std::uint64_t bits, BinaryLayout L) {
  const std::uint64_t man_mask = (std::uint64_t{1} << L.man_bits) - 1;
  const std::uint64_t exp_max = (std::uint64_t{1} << L.exp_bits) - 1;
  const bool sign = (bits >> (L.total_bits() - 1)) & 1;
  const std::uint64_t e = (bits >> L.man_bits) & exp_max;
  const std::uint64_t m = bits & man_mask;
  if (e == exp_max) return {m ? Unpacked::Kind::nan : Unpacked::Kind::inf, sign, 0, 0, m};
  if (e == 0 && m == 0) return {Unpacked::Kind::zero, sign, 0, 0, 0};
  if (e == 0) return {Unpacked::Kind::finite, sign, m, L.emin() - L.man_bits, m};  // subnormal
  return {Unpacked::Kind::finite, sign, m | (man_mask + 1), static_cast<int>(e) - L.bias() - L.man_bits, m};
}

std::uint64_t round_shifted(std::uint64_t sig, int shift, Rounding rounding, std::uint32_t random,
                            std::uint64_t odd_offset) {
  if (shift <= 0) return sig << -shift;
  // sig < 2^64, so for shift >= 64 the kept part is 0 and the value is below half an ulp.
  const std::uint64_t kept = shift >= 64 ? 0 : sig >> shift;
  const std::uint64_t rest = shift >= 64 ? sig : sig & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t half = shift <= 64 ? std::uint64_t{1} << (shift - 1) : 0;  // 0: beyond reach
  bool up = false;
  switch (rounding) {
    case Rounding::rne: up = half && (rest > half || (rest == half && ((kept + odd_offset) & 1))); break;
    case Rounding::rna: up = half && rest >= half; break;
    case Rounding::rtz: break;
    case Rounding::rta: up = rest != 0; break;
    case Rounding::rto: up = rest != 0 && ((kept + odd_offset) & 1) == 0; break;
    case Rounding::rtp:  // signed: callers pass on_magnitude(rounding, sign)
    case Rounding::rtn: assert(false); break;
    case Rounding::sr: {
      std::uint64_t f32bits;  // the 32 bits just below the last kept bit; lower bits are dropped
      if (shift <= 32) f32bits = rest << (32 - shift);
      else if (shift - 32 < 64) f32bits = rest >> (shift - 32);
      else f32bits = 0;
      up = f32bits + random >= (std::uint64_t{1} << 32);
      break;
    }
  }
  return kept + (up ? 1 : 0);
}

std::uint64_t round_magnitude(std::uint64_t sig, int exp, BinaryLayout L, Rounding rounding,
                              std::uint32_t random, bool even_code) {
  assert(sig != 0);
  const int top = std::bit_width(sig) - 1 + exp;  // value in [2^top, 2^(top+1))
  const int e = std::max(top, L.emin());          // exponent of the result (emin when subnormal)
  const int shift = (e - L.man_bits) - exp;       // bits of sig below the result's last bit
  // (biased_e - 1) << m plus the significand counts through the subnormal/normal boundary and
  // a carry into the next binade alike.
  const std::uint64_t biased_minus_one = static_cast<std::uint64_t>(e + L.bias() - 1);
  // rto's odd is the code's (the exponent's parity when there is no mantissa), in every format.
  const std::uint64_t odd_offset = (even_code || rounding == Rounding::rto) && L.man_bits == 0 ? biased_minus_one : 0;
  return (biased_minus_one << L.man_bits) + round_shifted(sig, shift, rounding, random, odd_offset);
}

std::uint64_t pack_nearest(bool sign, std::uint64_t sig, int exp, BinaryLayout L) {
  const std::uint64_t s = std::uint64_t{sign} << (L.total_bits() - 1);
  if (sig == 0) return s;
  const std::uint64_t inf = ((std::uint64_t{1} << L.exp_bits) - 1) << L.man_bits;
  return s | std::min(round_magnitude(sig, exp, L, Rounding::rne), inf);
}

}  // namespace lowbit::ref
