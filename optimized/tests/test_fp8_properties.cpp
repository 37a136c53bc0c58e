// RapidCheck properties of the FP8 codec, run through the public API against every
// implementation of the kernel table, for every format and the profiles that apply to it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "fp8_cases.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"

namespace {

using namespace lowbit;

fp8::Format gen_format() { return fp8::kFormats[*rc::gen::inRange<std::size_t>(0, fp8::kFormats.size())]; }
fp8::Profile gen_profile(fp8::Format f) {
  const std::vector<fp8::Profile> v = test::applicable_profiles(f);
  return v[*rc::gen::inRange<std::size_t>(0, v.size())];
}
// A profile of the format that saturates finite values (ml_dtypes-sat, cuda-satfinite, p3109-satfinite ...).
fp8::Profile gen_saturating(fp8::Format f) {
  std::vector<fp8::Profile> v;
  for (const fp8::Profile& p : test::applicable_profiles(f))
    if (p.saturate_finite) v.push_back(p);
  return v[*rc::gen::inRange<std::size_t>(0, v.size())];
}
const fp8::Impl& gen_impl() {
  std::vector<const fp8::Impl*> impls;
  for (const fp8::Impl& i : kernels::list<fp8::Impl>())
    if (kernels::available(i)) impls.push_back(&i);
  return *impls[*rc::gen::inRange<std::size_t>(0, impls.size())];
}

fp8::Options opts(fp8::Format f, const fp8::Profile& p, Rounding r, const fp8::Impl& impl, std::uint64_t seed = 0) {
  fp8::Options o;
  o.format = f;
  o.profile = p;
  o.rounding = r;
  o.seed = seed;
  o.impl = &impl;
  return o;
}

std::uint8_t enc(float x, const fp8::Options& o) {
  std::uint8_t c;
  encode(std::span(&x, 1), std::span(&c, 1), o);
  return c;
}
float dec(std::uint8_t c, const fp8::Options& o) {
  float x;
  decode(std::span(&c, 1), std::span(&x, 1), o);
  return x;
}

RC_GTEST_PROP(Fp8Properties, EveryCodeRoundTripsThroughEveryWideType, ()) {
  const fp8::Format f = gen_format();
  const fp8::Profile p = gen_profile(f);
  const fp8::Options o = opts(f, p, *rc::gen::element(Rounding::rne, Rounding::rtz, Rounding::sr), gen_impl(), *rc::gen::arbitrary<std::uint64_t>());
  const auto code = static_cast<std::uint8_t>(*rc::gen::arbitrary<std::uint8_t>() & (traits(f).codes() - 1));
  std::uint8_t back[3];
  float x32;
  f16 x16;
  bf16 xb;
  decode(std::span(&code, 1), std::span(&x32, 1), o);
  decode(std::span(&code, 1), std::span(&x16, 1), o);
  decode(std::span(&code, 1), std::span(&xb, 1), o);
  encode(std::span<const float>(&x32, 1), std::span(&back[0], 1), o);
  encode(std::span<const f16>(&x16, 1), std::span(&back[1], 1), o);
  encode(std::span<const bf16>(&xb, 1), std::span(&back[2], 1), o);
  // E8M0's smallest and largest values are out of f16's range (decoded to 0 and Inf).
  const bool in_f16 = std::isnan(x32) || ref::convert_nearest<float>(x16) == x32;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i == 1 && !in_f16) continue;
    if (is_nan(f, code)) RC_ASSERT(is_nan(f, back[i]));
    else RC_ASSERT(back[i] == code);
  }
}

// -x is x's code with the sign flipped, but an unsigned zero and NaN (FNUZ, P3109: 0x00, 0x80); E8M0
// has no negatives: NaN, or its smallest value when saturating finite values.
RC_GTEST_PROP(Fp8Properties, SignSymmetry, ()) {
  const fp8::Format f = gen_format();
  const fp8::Traits& t = traits(f);
  const fp8::Profile p = gen_profile(f);
  const float x = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  RC_PRE(!std::isnan(x));
  const Rounding r = *rc::gen::element(Rounding::rne, Rounding::rtz, Rounding::sr);
  const fp8::Options o = opts(f, p, r, gen_impl(), *rc::gen::arbitrary<std::uint64_t>());
  const std::uint8_t pos = enc(std::fabs(x), o), neg = enc(-std::fabs(x), o);  // same element index, same sr word
  if (!t.is_signed && p.below_range == fp8::BelowRange::magnitude) RC_ASSERT(neg == pos);
  else if (!t.is_signed && p.below_range == fp8::BelowRange::zero) RC_ASSERT(neg == 0);
  else if (!t.is_signed) RC_ASSERT(neg == (p.saturate_finite && std::isfinite(x) ? 0 : t.canonical_nan()));
  else if (t.unsigned_zero() && (pos & 0x7F) == 0) RC_ASSERT(neg == pos);
  else RC_ASSERT(neg == (pos ^ t.sign_bit()));
}

// The directed roundings bracket a value in range: rtn(x) <= x <= rtp(x), equal exactly when x is a
// value of the format; rtz and rta are rtn and rtp by the sign; rto is one of the two and, when x is
// not a value, the odd code.
RC_GTEST_PROP(Fp8Properties, DirectedRoundingsBracketTheValue, ()) {
  const fp8::Format f = gen_format();
  const fp8::Traits& t = traits(f);
  const fp8::Profile p = gen_profile(f);
  const fp8::Impl& impl = gen_impl();
  const float x = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  const auto at = [&](Rounding r) { return enc(x, opts(f, p, r, impl)); };
  const double max = dec(t.max_finite(), opts(f, p, Rounding::rne, impl));
  RC_PRE(std::isfinite(x) && std::fabs(x) <= max);
  RC_PRE(t.is_signed || x >= 0);                           // unsigned formats: positive values
  RC_PRE(t.has_zero || x >= std::ldexp(1.0, -t.layout.bias()));  // E8M0: from 2^-127, its smallest value, up
  const std::uint8_t down = at(Rounding::rtn), up = at(Rounding::rtp);
  const double lo = dec(down, opts(f, p, Rounding::rne, impl)), hi = dec(up, opts(f, p, Rounding::rne, impl));
  RC_ASSERT(lo <= x);
  RC_ASSERT(x <= hi);
  RC_ASSERT((lo == hi) == (lo == x));
  RC_ASSERT(at(Rounding::rtz) == (x >= 0 ? down : up));
  RC_ASSERT(at(Rounding::rta) == (x >= 0 ? up : down));
  const std::uint8_t odd = at(Rounding::rto);
  RC_ASSERT(odd == down || odd == up);
  if (lo != hi) RC_ASSERT((odd & 1) == 1);
}

RC_GTEST_PROP(Fp8Properties, MonotoneWhereNoNaNIsProduced, ()) {
  const fp8::Format f = gen_format();
  const fp8::Profile p = gen_saturating(f);
  const Rounding r = *rc::gen::element(Rounding::rne, Rounding::rtz);
  const fp8::Options o = opts(f, p, r, gen_impl());
  float a = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  float b = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  RC_PRE(std::isfinite(a) && std::isfinite(b));
  if (b < a) std::swap(a, b);
  RC_ASSERT(dec(enc(a, o), o) <= dec(enc(b, o), o));
}

RC_GTEST_PROP(Fp8Properties, SaturatingProfilesStayWithinMaxFinite, ()) {
  const fp8::Format f = gen_format();
  const fp8::Profile p = gen_saturating(f);
  const fp8::Options o = opts(f, p, *rc::gen::element(Rounding::rne, Rounding::rtz, Rounding::sr), gen_impl(), 42);
  const float x = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  RC_PRE(!std::isnan(x) && (std::isfinite(x) || p.saturate_inf));
  const float y = dec(enc(x, o), o);
  const float max = dec(traits(f).max_finite(), o);
  RC_ASSERT(std::isfinite(y));
  RC_ASSERT(std::fabs(y) <= max);
}

// The mean of stochastic rounding over K independent seeds converges to x: its deviation is a
// sum of K Bernoulli(F/2^32) steps, so |mean - E| <= 6 sigma with sigma <= ulp / (2 sqrt(K)), and
// E differs from x by the dropped bits below the 32 used: < ulp * 2^-32.
RC_GTEST_PROP(Fp8Properties, StochasticRoundingIsUnbiased, ()) {
  const fp8::Format f = gen_format();
  const fp8::Options base = opts(f, fp8::default_profile(), Rounding::sr, gen_impl());
  const double max = dec(traits(f).max_finite(), base);
  const int k = *rc::gen::inRange(-1000000, 1000000);
  RC_PRE(traits(f).is_signed || k > 0);  // E8M0: positive values only
  const float xf = static_cast<float>(k / 1000000.0 * max * 0.99);
  constexpr int K = 4096;
  std::vector<float> in(K, xf);
  std::vector<std::uint8_t> codes(K);
  fp8::Options o = base;
  o.seed = *rc::gen::arbitrary<std::uint64_t>();
  encode(std::span<const float>(in), std::span(codes), o);  // K elements = K independent words
  fp8::Options down = base;
  down.rounding = Rounding::rtz;
  const std::uint8_t below = enc(std::fabs(xf), down);  // magnitude code just below |x|
  const double lo = dec(below, o), ulp = dec(static_cast<std::uint8_t>(below + 1), o) - lo;
  double sum = 0;
  for (std::uint8_t c : codes) {
    const double v = std::fabs(dec(c, o));
    RC_ASSERT(v == lo || v == lo + ulp);  // only the two neighbours
    sum += v;
  }
  RC_ASSERT(std::fabs(sum / K - std::fabs(double{xf})) <= 6 * ulp / (2 * std::sqrt(double{K})) + ulp * 0x1p-32);
}

}  // namespace
