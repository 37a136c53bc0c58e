// RapidCheck properties of the MX formats through the public API: every kernel of the table gives the
// reference's bytes, and each implementation, picked at random, keeps the format's symmetries.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "kernel_rows.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit;

const mx::Impl& gen_impl() {
  const std::vector<const mx::Impl*> rows = test::available_rows<mx::Impl>(true);
  return *rows[*rc::gen::inRange<std::size_t>(0, rows.size())];
}

mx::Options gen_options(bool deterministic = false) {
  mx::Options o;
  o.format = mx::kFormats[*rc::gen::inRange<std::size_t>(0, mx::kFormats.size())].format;
  o.rounding = deterministic ? *rc::gen::element(Rounding::rne, Rounding::rna, Rounding::rtz)
                             : *rc::gen::element(Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr);
  o.seed = *rc::gen::arbitrary<std::uint64_t>();
  o.index0 = *rc::gen::inRange<std::uint64_t>(0, 1000);
  o.impl = &gen_impl();
  return o;
}

// Up to 5 blocks of values well inside the scale's range (|x| in 2^-40 .. 2^40: X never clamps).
std::vector<float> gen_values() {
  const int n = *rc::gen::inRange(1, 5 * mx::kBlock + 1);
  std::vector<float> x(n);
  for (std::size_t b = 0; b < x.size(); b += mx::kBlock) {
    const int scale = *rc::gen::inRange(-30, 30);
    for (std::size_t i = b; i < std::min(x.size(), b + mx::kBlock); ++i)
      x[i] = std::ldexp(static_cast<float>(*rc::gen::inRange(-1000000, 1000001)) / 1000000, scale + *rc::gen::inRange(-8, 1));
  }
  return x;
}

// Any f32 bit patterns: NaN, Inf, subnormals and the extremes included.
std::vector<float> gen_patterns() {
  const auto bits = *rc::gen::container<std::vector<std::uint32_t>>(*rc::gen::inRange<std::size_t>(0, 5 * mx::kBlock + 1),
                                                                   rc::gen::arbitrary<std::uint32_t>());
  std::vector<float> x(bits.size());
  std::transform(bits.begin(), bits.end(), x.begin(), [](std::uint32_t b) { return std::bit_cast<float>(b); });
  return x;
}

RC_GTEST_PROP(MxProperties, EveryKernelGivesTheReferencesBytes, ()) {
  mx::Options o = gen_options();
  const std::vector<float> x = *rc::gen::element(0, 1) ? gen_values() : gen_patterns();
  o.impl = &kernels::reference<mx::Impl>();
  const mx::Encoded want = mx::encode(x, o);
  const std::vector<float> want_y = mx::decode(want.codes, want.scales, o);
  for (const mx::Impl& impl : kernels::list<mx::Impl>()) {
    if (!kernels::available(impl)) continue;
    o.impl = &impl;
    const mx::Encoded got = mx::encode(x, o);
    RC_ASSERT(got.codes == want.codes);
    RC_ASSERT(got.scales == want.scales);
    RC_ASSERT(got.stats == want.stats);
    const std::vector<float> y = mx::decode(want.codes, want.scales, o);
    RC_ASSERT(std::equal(y.begin(), y.end(), want_y.begin(),
                         [](float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }));
  }
}

RC_GTEST_PROP(MxProperties, ScalingByAPowerOfTwoMovesOnlyTheScale, ()) {
  const mx::Options o = gen_options();
  const std::vector<float> x = gen_values();
  const int k = *rc::gen::inRange(-20, 21);
  std::vector<float> y(x);
  for (float& v : y) v = std::ldexp(v, k);
  const mx::Encoded a = mx::encode(x, o), b = mx::encode(y, o);  // the same sr words: element i has index i
  RC_ASSERT(a.codes == b.codes);
  for (std::size_t g = 0; g < a.scales.size(); ++g)
    if (std::any_of(x.begin() + g * mx::kBlock, x.begin() + std::min(x.size(), (g + 1) * mx::kBlock), [](float v) { return v != 0; }))
      RC_ASSERT(int{b.scales[g]} - int{a.scales[g]} == k);
}

RC_GTEST_PROP(MxProperties, SignSymmetry, ()) {
  const mx::Options o = gen_options();
  const std::vector<float> x = gen_values();
  std::vector<float> y(x);
  for (float& v : y) v = -v;
  const mx::Encoded a = mx::encode(x, o), b = mx::encode(y, o);
  RC_ASSERT(a.scales == b.scales);
  const mx::Traits& t = traits(o.format);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (o.format == mx::Format::int8) RC_ASSERT(static_cast<std::int8_t>(b.codes[i]) == -static_cast<std::int8_t>(a.codes[i]));
    else RC_ASSERT(b.codes[i] == (a.codes[i] == 0 ? 0 : a.codes[i] ^ mx::sign_bit(t)));  // MX writes +0
}

RC_GTEST_PROP(MxProperties, EncodingADecodedStreamGivesItBack, ()) {
  const mx::Options o = gen_options();
  const mx::Encoded a = mx::encode(gen_values(), o);
  const mx::Encoded b = mx::encode(mx::decode(a.codes, a.scales, o), o);
  RC_ASSERT(a.codes == b.codes);
  RC_ASSERT(a.scales == b.scales);
}

RC_GTEST_PROP(MxProperties, MonotoneWithinABlock, ()) {
  const mx::Options o = gen_options(true);
  const std::vector<float> x = gen_values();
  const std::vector<float> y = mx::quantize(x, o);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i - i % mx::kBlock; j < std::min(x.size(), i - i % mx::kBlock + mx::kBlock); ++j)
      if (x[i] <= x[j]) RC_ASSERT(y[i] <= y[j]);
}

}  // namespace
