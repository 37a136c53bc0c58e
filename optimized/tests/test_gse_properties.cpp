// RapidCheck properties of GSE-INT through the public API, on every implementation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <vector>

#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;

struct Encoded {
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> exps;
  BlockStats stats;
};

const gse::Impl& gen_impl() {
  std::vector<const gse::Impl*> impls;
  for (const gse::Impl& i : kernels::list<gse::Impl>())
    if (kernels::available(i)) impls.push_back(&i);
  return *impls[*rc::gen::inRange<std::size_t>(0, impls.size())];
}

gse::Options gen_options(bool nearest_only = false) {
  gse::Options o;
  o.format.bits = *rc::gen::inRange(4, 9);
  o.format.group = *rc::gen::element(16, 32, 64, 128, 256);
  o.format.mantissa_overflow = *rc::gen::element(gse::MantissaOverflow::saturate, gse::MantissaOverflow::bump);
  o.rounding = nearest_only ? *rc::gen::element(Rounding::rne, Rounding::rna)
                            : *rc::gen::element(Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr);
  o.seed = *rc::gen::arbitrary<std::uint64_t>();
  o.impl = &gen_impl();
  return o;
}

// One or two groups of values well inside the 5-bit field's range (|x| in 2^-10 .. 2^10).
std::vector<float> gen_values(const gse::Options& o) {
  const int n = *rc::gen::inRange(1, 2 * o.format.group + 1);
  const int scale = *rc::gen::inRange(-8, 8);
  std::vector<float> x(n);
  for (float& v : x) v = std::ldexp(static_cast<float>(*rc::gen::inRange(-1000000, 1000001)) / 1000000, scale);
  return x;
}

Encoded enc(const std::vector<float>& x, const gse::Options& o) {
  Encoded e{std::vector<std::int8_t>(x.size()), std::vector<std::uint8_t>(o.format.groups(x.size())), {}};
  e.stats = gse::encode(x, e.codes, e.exps, o);
  return e;
}

std::vector<float> dec(const Encoded& e, const gse::Options& o) {
  std::vector<float> y(e.codes.size());
  gse::decode(e.codes, e.exps, std::span(y), o);
  return y;
}

RC_GTEST_PROP(GseProperties, ScalingByAPowerOfTwoMovesOnlyTheExponent, ()) {
  const gse::Options o = gen_options();
  const std::vector<float> x = gen_values(o);
  const int k = *rc::gen::inRange(-4, 5);
  std::vector<float> y(x);
  for (float& v : y) v = std::ldexp(v, k);
  const Encoded a = enc(x, o), b = enc(y, o);
  RC_PRE(a.stats.exp_underflow == 0 && b.stats.exp_underflow == 0);  // zero groups aside, no clamping
  RC_ASSERT(a.codes == b.codes);
  for (std::size_t g = 0; g < a.exps.size(); ++g)
    if (std::any_of(a.codes.begin() + g * o.format.group, a.codes.begin() + std::min(a.codes.size(), (g + 1) * o.format.group),
                    [](std::int8_t c) { return c != 0; }))
      RC_ASSERT(int{b.exps[g]} - int{a.exps[g]} == k);
}

RC_GTEST_PROP(GseProperties, SignSymmetry, ()) {
  const gse::Options o = gen_options();
  const std::vector<float> x = gen_values(o);
  std::vector<float> y(x);
  for (float& v : y) v = -v;
  const Encoded a = enc(x, o), b = enc(y, o);  // the same words: element i has the same index
  RC_ASSERT(a.exps == b.exps);
  for (std::size_t i = 0; i < x.size(); ++i) RC_ASSERT(b.codes[i] == -a.codes[i]);
}

RC_GTEST_PROP(GseProperties, EncodingADecodedStreamGivesItBack, ()) {
  const gse::Options o = gen_options();
  const Encoded a = enc(gen_values(o), o);
  const Encoded b = enc(dec(a, o), o);
  RC_ASSERT(a.codes == b.codes);
  RC_ASSERT(a.exps == b.exps);
}

RC_GTEST_PROP(GseProperties, MonotoneWithinAGroup, ()) {
  gse::Options o = gen_options();
  o.rounding = *rc::gen::element(Rounding::rne, Rounding::rna, Rounding::rtz);
  const std::vector<float> x = gen_values(o);
  const Encoded a = enc(x, o);
  const std::size_t N = static_cast<std::size_t>(o.format.group);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i - i % N; j < std::min(x.size(), i - i % N + N); ++j)
      if (x[i] <= x[j]) RC_ASSERT(a.codes[i] <= a.codes[j]);
}

RC_GTEST_PROP(GseProperties, NearestIsWithinHalfAStep, ()) {
  const gse::Options o = gen_options(true);
  const std::vector<float> x = gen_values(o);
  const Encoded a = enc(x, o);
  RC_PRE(a.stats.saturated == 0);
  const std::vector<float> y = dec(a, o);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const int e = a.exps[i / o.format.group] - o.format.exp_bias + o.format.exp_offset;
    RC_ASSERT(std::fabs(double{x[i]} - double{y[i]}) <= std::ldexp(1.0, e - (o.format.bits - 2)) / 2);
  }
}

}  // namespace
