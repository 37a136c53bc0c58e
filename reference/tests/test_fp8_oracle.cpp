// The minifloat reference against exact arithmetic: an independent oracle (Boost.Multiprecision)
// that lists the exact values of the codes and rounds the exact input among them, for every format,
// rounding and profile (saturating, not, IEEE rtz), the directed roundings and round-to-odd included.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <vector>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

using namespace lowbit;
using Big = boost::multiprecision::cpp_bin_float_50;

// Whether a magnitude a fraction `frac` (0 < frac < 1) of the way from one code to the next rounds to
// the next; `odd`: the lower code's significand is odd (rne), `odd_code`: the lower code is odd (rto).
// rtp and rtn reach here as rtz or rta, by the sign.
bool round_up(const Big& frac, bool odd, bool odd_code, Rounding r, std::uint32_t random) {
  switch (r) {
    case Rounding::rne: return frac > 0.5 || (frac == 0.5 && odd);
    case Rounding::rna: return frac >= 0.5;
    case Rounding::rtz: return false;
    case Rounding::sr: return floor(ldexp(frac, 32)) + random >= ldexp(Big(1), 32);
    case Rounding::rta: return true;
    case Rounding::rto: return !odd_code;
    case Rounding::rtp:
    case Rounding::rtn: break;
  }
  ADD_FAILURE() << "a signed rounding on a magnitude";
  return false;
}

struct Oracle {
  fp8::Format format;
  std::vector<Big> value;  // exact value of magnitude codes 0 .. max finite, then one step beyond

  explicit Oracle(fp8::Format f) : format(f) {
    const fp8::Traits& t = traits(f);
    const int m = t.layout.man_bits, bias = t.layout.bias();
    for (int code = 0; code <= t.max_finite() + 1; ++code) {  // max+1: the first value past max
      const int e = code >> m, man = code & ((1 << m) - 1);
      // E8M0's code 0 (2^-127) rounds as a zero would: its neighbour 2^-126 takes (2^-127, 1.5 2^-127).
      value.push_back(e == 0 ? ldexp(Big(man), 1 - bias - m) : ldexp(Big((1 << m) + man), e - bias - m));
    }
  }

  // The largest code whose value is <= ax (the values increase with the code).
  std::size_t largest_at_most(const Big& ax) const {
    return static_cast<std::size_t>(std::upper_bound(value.begin(), value.end(), ax) - value.begin()) - 1;
  }

  // The code for a finite non-zero value x under rounding r (random word for sr) and profile p.
  std::uint8_t encode(const Big& x, Rounding signed_rounding, std::uint32_t random, const fp8::Profile& p) const {
    const fp8::Traits& t = traits(format);
    // An unsigned format's negatives: ml_dtypes NaN (saturating: 0x00), P3109 0 (M^lo), CUDA |x|.
    if (!t.is_signed && x < 0 && p.below_range == fp8::BelowRange::zero) return 0;
    if (!t.is_signed && x < 0 && p.below_range == fp8::BelowRange::nan) return p.saturate_finite ? 0 : t.canonical_nan();
    const bool negative = x < 0 && t.is_signed;
    const std::uint8_t sign = negative ? t.sign_bit() : 0;
    const Big ax = abs(x);
    // Toward +-Inf on a magnitude: toward zero, or away from it.
    Rounding r = signed_rounding;
    if (r == Rounding::rtp) r = negative ? Rounding::rtz : Rounding::rta;
    if (r == Rounding::rtn) r = negative ? Rounding::rta : Rounding::rtz;
    const auto overflow = [&]() -> std::uint8_t {
      // IEEE 754 7.4: a rounding toward zero for the sign stays finite (the profile's rtz may not);
      // P3109: rto in an unsigned format too.
      const bool toward_zero = signed_rounding == Rounding::rtz ? p.rtz_saturates
                               : signed_rounding == Rounding::rto ? !t.is_signed
                                                                   : r == Rounding::rtz;
      if (p.saturate_finite || toward_zero || t.specials == fp8::Specials::finite)
        return sign | t.max_finite();
      if (t.has_inf()) return sign | t.inf();
      return t.specials == fp8::Specials::fnuz ? 0x80 : sign | t.canonical_nan();
    };
    if (ax >= value.back()) {
      // ml_dtypes' E8M0 carry wrap: a value of 2^128's binade that rounds up to 2^129 gives code 0.
      const Big top = value.back();
      if (p.e8m0_wraps && !t.has_zero && ax < 2 * top && round_up((ax - top) / top, true, true, r, random)) return 0;
      return overflow();
    }
    // E8M0's code 0, 2^-127: exactly, and the smallest value at or above every smaller x.
    if (!t.has_zero && (ax == ldexp(Big(1), -t.layout.bias()) || (r == Rounding::rta && ax < ldexp(Big(1), -t.layout.bias()))))
      return 0;
    const std::size_t lo = largest_at_most(ax);
    // Ties to an even significand. With no mantissa bits every normal significand is 1, odd: ties go
    // up (E8M0; the zero-like code 0 is even), unless the format ties to the even code (P3109 P1).
    const bool odd = t.layout.man_bits == 0 && !t.ties_to_even_code ? lo != 0 : (lo & 1);
    // exact: the step is a power of two
    const std::size_t code =
        value[lo] != ax && round_up((ax - value[lo]) / (value[lo + 1] - value[lo]), odd, lo & 1, r, random) ? lo + 1 : lo;
    if (code > t.max_finite()) return overflow();
    if (code == 0 && !t.has_negative_zero()) return 0;
    return static_cast<std::uint8_t>(sign | code);
  }

  // The sr words at which the decision flips, plus the extremes.
  std::vector<std::uint32_t> sr_words(const Big& x) const {
    const Big ax = abs(x);
    const std::size_t lo = largest_at_most(ax);
    if (lo + 1 >= value.size()) return {0, 0xFFFFFFFF};
    const Big frac = (ax - value[lo]) / (value[lo + 1] - value[lo]);
    const auto f = static_cast<std::uint64_t>(floor(ldexp(frac, 32)));
    std::vector<std::uint32_t> w{0, 0xFFFFFFFF, 0x80000000};
    if (f > 0) w.push_back(static_cast<std::uint32_t>((1ull << 32) - f));
    if (f > 1) w.push_back(static_cast<std::uint32_t>((1ull << 32) - f - 1));
    return w;
  }
};

// Checks the reference on finite non-zero inputs of type T against the oracle, every rounding
// mode, saturating and not. Returns the number of cases.
template <class T>
std::size_t check_against_oracle(const std::vector<T>& inputs, double (*to_double)(T)) {
  std::size_t cases = 0;
  for (fp8::Format f : fp8::kFormats) {
    const Oracle oracle(f);
    for (const fp8::Profile& p : fp8::kProfiles) {
      const fp8::Profile* profile = &p;
      if (!applies(*profile, f)) continue;
      for (T x : inputs) {
        const double d = to_double(x);
        if (!std::isfinite(d) || d == 0) continue;
        const Big exact(d);
        for (Rounding r : kMinifloatRoundings) {
          const fp8::EncodeParams p = fp8::encode_params(f, *profile, FloatTraits<T>::type, r);
          const std::vector<std::uint32_t> words = r == Rounding::sr ? oracle.sr_words(exact) : std::vector<std::uint32_t>{0};
          for (std::uint32_t w : words) {
            ++cases;
            const std::uint8_t want = oracle.encode(exact, r, w, *profile);
            const std::uint8_t got = ref::fp8_encode(x, p, w);
            if (got != want) {
              ADD_FAILURE() << traits(f).name << " " << profile->name << " " << name(r) << " word " << w
                            << ": input bits 0x" << std::hex << static_cast<std::uint64_t>(FloatTraits<T>::to_bits(x))
                            << " got 0x" << int{got} << " expected 0x" << int{want};
              return cases;
            }
          }
        }
      }
    }
  }
  return cases;
}

// Independent decoders of the 16-bit source formats (field arithmetic in double).
double f16_value(f16 h) {
  const int e = (h.bits >> 10) & 31, m = h.bits & 1023;
  const double mag = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
  return h.bits & 0x8000 ? -mag : mag;
}
double bf16_value(bf16 b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b.bits) << 16); }

template <class T> std::vector<T> all16() {
  std::vector<T> v;
  for (std::uint32_t i = 0; i < 65536; ++i) v.push_back(T{static_cast<std::uint16_t>(i)});
  return v;
}

TEST(Fp8OracleSlow, EveryF16Input) {
  EXPECT_GT(check_against_oracle<f16>(all16<f16>(), f16_value), 100000u);
}

TEST(Fp8OracleSlow, EveryBf16Input) {
  EXPECT_GT(check_against_oracle<bf16>(all16<bf16>(), bf16_value), 100000u);
}

TEST(Fp8OracleSlow, F32BoundaryAndRandom) {
  std::vector<float> in;
  for (std::uint32_t b : conformance::f32_cases(7, 1 << 12)) in.push_back(std::bit_cast<float>(b));
  EXPECT_GT(check_against_oracle<float>(in, [](float x) { return double{x}; }), 100000u);
}

TEST(Fp8OracleSlow, F64BoundaryAndRandom) {
  std::vector<double> in;
  std::size_t i = 0;
  for (std::uint64_t b : conformance::f64_cases(11, 1 << 12)) {
    const int e = static_cast<int>((b >> 52) & 2047);
    // Every case near the FP8 range, and a sample of the far ones (tiny, huge, subnormal).
    if ((e > 1023 - 40 && e < 1023 + 20) || i++ % 97 == 0) in.push_back(std::bit_cast<double>(b));
  }
  EXPECT_GT(check_against_oracle<double>(in, [](double x) { return x; }), 50000u);
}

}  // namespace
