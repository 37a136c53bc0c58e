// The FP8 reference against exact arithmetic: an independent oracle (Boost.Multiprecision) that
// lists the exact values of the codes and rounds the exact input among them.
#include <gtest/gtest.h>

#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <vector>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

using namespace lowbit;
using Big = boost::multiprecision::cpp_bin_float_50;

struct Oracle {
  fp8::Format format;
  std::vector<Big> value;  // exact value of magnitude codes 0 .. max_finite, then one step beyond

  explicit Oracle(fp8::Format f) : format(f) {
    const fp8::Traits& t = traits(f);
    const int m = t.layout.man_bits, bias = t.layout.bias();
    for (int code = 0; code <= t.max_finite + 1; ++code) {  // max+1: the first value past max
      const int e = code >> m, man = code & ((1 << m) - 1);
      value.push_back(e == 0 ? ldexp(Big(man), 1 - bias - m) : ldexp(Big((1 << m) + man), e - bias - m));
    }
  }

  // The code for a finite non-zero value x under rounding r (random word for sr).
  std::uint8_t encode(const Big& x, Rounding r, std::uint32_t random, bool saturate) const {
    const fp8::Traits& t = traits(format);
    const std::uint8_t sign = x < 0 ? 0x80 : 0;
    const Big ax = abs(x);
    const auto overflow = [&] {
      return static_cast<std::uint8_t>(sign | (saturate || r == Rounding::rtz ? t.max_finite : t.has_inf ? t.inf : t.canonical_nan));
    };
    if (ax >= value.back()) return overflow();
    std::size_t lo = 0;  // largest code with value <= ax
    while (lo + 1 < value.size() && value[lo + 1] <= ax) ++lo;
    std::size_t code = lo;
    if (value[lo] != ax) {
      const Big frac = (ax - value[lo]) / (value[lo + 1] - value[lo]);  // exact: a power-of-two step
      switch (r) {
        case Rounding::rne:
          code = frac > 0.5 || (frac == 0.5 && (lo & 1)) ? lo + 1 : lo;
          break;
        case Rounding::rna:
          code = frac >= 0.5 ? lo + 1 : lo;
          break;
        case Rounding::rtz: break;
        case Rounding::sr: {
          const Big f32 = floor(ldexp(frac, 32));
          code = f32 + random >= ldexp(Big(1), 32) ? lo + 1 : lo;
          break;
        }
      }
    }
    return code > t.max_finite ? overflow() : static_cast<std::uint8_t>(sign | code);
  }

  // The sr words at which the decision flips, plus the extremes.
  std::vector<std::uint32_t> sr_words(const Big& x) const {
    const Big ax = abs(x);
    std::size_t lo = 0;
    while (lo + 1 < value.size() && value[lo + 1] <= ax) ++lo;
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
    for (const fp8::Profile* profile : {fp8::find_profile("ml_dtypes"), fp8::find_profile("ml_dtypes-sat")}) {
      for (T x : inputs) {
        const double d = to_double(x);
        if (!std::isfinite(d) || d == 0) continue;
        const Big exact(d);
        for (Rounding r : kRoundings) {
          const fp8::EncodeParams p = fp8::encode_params(f, *profile, FloatTraits<T>::type, r);
          const std::vector<std::uint32_t> words = r == Rounding::sr ? oracle.sr_words(exact) : std::vector<std::uint32_t>{0};
          for (std::uint32_t w : words) {
            ++cases;
            const std::uint8_t want = oracle.encode(exact, r, w, profile->saturate_finite);
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

TEST(Fp8Oracle, F32BoundaryAndRandom) {
  std::vector<float> in;
  for (std::uint32_t b : conformance::f32_cases(7, 1 << 14)) in.push_back(std::bit_cast<float>(b));
  EXPECT_GT(check_against_oracle<float>(in, [](float x) { return double{x}; }), 100000u);
}

TEST(Fp8Oracle, F64BoundaryAndRandom) {
  std::vector<double> in;
  std::size_t i = 0;
  for (std::uint64_t b : conformance::f64_cases(11, 1 << 14)) {
    const int e = static_cast<int>((b >> 52) & 2047);
    // Every case near the FP8 range, and a sample of the far ones (tiny, huge, subnormal).
    if ((e > 1023 - 40 && e < 1023 + 20) || i++ % 97 == 0) in.push_back(std::bit_cast<double>(b));
  }
  EXPECT_GT(check_against_oracle<double>(in, [](double x) { return x; }), 50000u);
}

}  // namespace
