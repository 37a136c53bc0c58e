#include "lowbit/conformance/gse_oracle.hpp"

#include <algorithm>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>

namespace lowbit::conformance {
namespace {

using Big = boost::multiprecision::cpp_bin_float_50;

// floor(log2 |amax|) as docs/formats/gse.md defines it: -127 below f32's normal range.
int raw_exponent(double amax) {
  if (amax < std::ldexp(1.0, -126)) return -127;
  int e;
  std::frexp(amax, &e);
  return e - 1;
}

// round(v) for v >= 0 under each mode; sr with word w: up iff floor(frac * 2^32) + w >= 2^32.
Big round_big(const Big& v, Rounding r, std::uint32_t w) {
  const Big lo = floor(v), frac = v - lo;
  switch (r) {
    case Rounding::rne: return frac > 0.5 || (frac == 0.5 && fmod(lo, Big(2)) == 1) ? lo + 1 : lo;
    case Rounding::rna: return frac >= 0.5 ? lo + 1 : lo;
    case Rounding::rtz: return lo;
    case Rounding::sr: return floor(ldexp(frac, 32)) + w >= ldexp(Big(1), 32) ? lo + 1 : lo;
  }
  return lo;
}

}  // namespace

OracleGroup gse_oracle(const std::vector<float>& x, const gse::Format& f, Rounding r, const std::vector<std::uint32_t>& words) {
  OracleGroup out;
  out.codes.assign(x.size(), 0);
  out.stats.groups = 1;
  double amax = 0;
  for (float v : x) {
    if (!std::isfinite(v)) {
      out.field = f.nan_field();
      out.stats.nan_groups = 1;
      return out;
    }
    amax = std::max(amax, std::fabs(double{v}));
  }
  int e = raw_exponent(amax);
  if (amax != 0 && e < f.emin()) out.stats.exp_underflow = 1;
  if (e > f.emax()) {
    out.stats.exp_overflow = 1;
    if (f.exponent_overflow == gse::ExponentOverflow::nan) {
      out.field = f.nan_field();
      out.stats.nan_groups = 1;
      return out;
    }
  }
  e = std::clamp(e, f.emin(), f.emax());
  const Big max = f.max_mantissa();
  std::vector<Big> m(x.size());
  for (;;) {
    bool over = false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      m[i] = round_big(ldexp(abs(Big(x[i])), f.bits - 2 - e), r, words[i]);
      over |= m[i] > max;
    }
    if (!over || f.mantissa_overflow != gse::MantissaOverflow::bump || e == f.emax()) break;
    ++e;
    ++out.stats.bumped;
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (m[i] > max) {
      m[i] = max;
      ++out.stats.saturated;
    }
    const int v = static_cast<int>(m[i]);
    out.codes[i] = x[i] < 0 ? -v : v;
  }
  out.field = static_cast<unsigned>(e - f.exp_offset + f.exp_bias);
  return out;
}

std::vector<float> random_gse_group(std::mt19937_64& rng, int len, const gse::Format& f) {
  const int kind = static_cast<int>(rng() % 7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(len);
  const int scale = static_cast<int>(rng() % 60) - 30;
  for (float& v : x) v = std::ldexp(u(rng), scale);
  switch (kind) {
    case 1:  // exact ties: (k + 1/2) quanta 2^(e - (b - 2)) with e = scale (some |k| >= 2^(b-2)); the
             // largest, 2^(b-1) - 1/2, rounds up to the mantissa overflow
      for (float& v : x) {
        const float m = static_cast<float>(rng() % (1u << (f.bits - 1))) + 0.5f;
        v = std::ldexp(rng() & 1 ? -m : m, scale - (f.bits - 2));
      }
      break;
    case 2: x[rng() % len] = std::ldexp(f.max_mantissa() + 0.5f, scale); break;  // max rounds up: bump
    case 3: for (float& v : x) v = std::ldexp(u(rng), -140); break;              // f32 subnormals
    case 4: for (float& v : x) v = 0.0f * u(rng); break;                         // signed zeros
    case 5: x[rng() % len] = rng() % 2 ? NAN : -INFINITY; break;
    case 6: for (float& v : x) v = std::ldexp(u(rng), static_cast<int>(rng() % 250) - 125); break;  // clamps
    default: break;
  }
  return x;
}

double gse_oracle_value(int code, unsigned field, const gse::Format& f) {
  if (field == f.nan_field()) return NAN;
  return std::ldexp(static_cast<double>(code), static_cast<int>(field) - f.exp_bias + f.exp_offset - (f.bits - 2));
}

gse::Format random_gse_format(std::mt19937_64& rng) {
  gse::Format f;
  f.bits = 4 + static_cast<int>(rng() % 5);
  f.group = gse::kGroupSizes[rng() % gse::kGroupSizes.size()];
  f.exp_bits = rng() % 3 ? 5 : 8;
  f.exp_bias = f.exp_bits == 5 ? static_cast<int>(rng() % 31) : 127;
  f.exp_offset = static_cast<int>(rng() % 41) - 20;
  f.mantissa_overflow = rng() % 2 ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate;
  f.exponent_overflow = rng() % 2 ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate;
  return f;
}

// microxcaling's C++ path, written from its documented behaviour (docs/formats/mx.md): the scale,
// then per element a private exponent, the element grid, rounding, saturation; zeros are +0.
float mx_oracle(float x, float amax, const mx::Traits& t, Rounding r) {
  const int X = std::max(raw_exponent(amax) - t.emax, -127);
  const double v = std::ldexp(double{x}, -X);  // exact: x / 2^X
  double q;                                     // the element grid step at v
  double max_norm;
  if (t.format == mx::Format::int8) {
    q = 1.0 / 64;
    max_norm = 127.0 / 64;
  } else {
    const int m = t.element.man_bits, emin = t.element.emin();
    int e = v == 0 ? emin : std::max(raw_exponent(std::fabs(v)), emin);
    q = std::ldexp(1.0, e - m);
    max_norm = std::ldexp(1.0 + (t.max_code & ((1 << m) - 1)) / double(1 << m), (t.max_code >> m) - t.element.bias());
  }
  const double a = std::fabs(v) / q;
  double k = r == Rounding::rna ? std::floor(a + 0.5) : r == Rounding::rtz ? std::floor(a) : std::nearbyint(a);
  const double mag = std::min(k * q, max_norm);
  return mag == 0 ? 0.0f : static_cast<float>(std::ldexp(x < 0 ? -mag : mag, X));
}

}  // namespace lowbit::conformance
