// The lowbit profile's double quantization through the public call, with every kernel row's search
// (the nf4 Impl's `nested` slot, optimized/common/nf4_nested.hpp and the ISA's policy) against the
// reference's multiprecision one: random and adversarial
// absmax arrays (exact midpoints and their neighbours, subnormals, zero and NaN/Inf blocks, offsets of
// either sign, short tails, maps with duplicates and far-apart neighbours), then every float of a few
// binades.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

namespace {

using namespace lowbit;

std::vector<std::uint32_t> bits(std::span<const float> v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = std::bit_cast<std::uint32_t>(v[i]);
  return b;
}

// The rows this CPU runs that have their own search (the reference row's is the reference).
std::vector<const nf4::Impl*> searches() {
  std::vector<const nf4::Impl*> rows;
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>())
    if (impl.nested && kernels::available(impl)) rows.push_back(&impl);
  return rows;
}

TEST(Nf4NestedExact, TheFastestRowHasItsOwnSearch) {
  EXPECT_NE(kernels::best<nf4::Impl>().nested, nullptr) << kernels::best<nf4::Impl>().name;
}

// The public call (lowbit profile) with every row and the reference give the same offset, codes and
// nested absmax.
void expect_reference(const std::vector<float>& absmax, std::optional<float> offset = {},
                      const nf4::DynamicMap& map = nf4::dynamic_map()) {
  const nf4::DoubleQuantized want = ref::nf4_double_quantize(absmax, nf4::Nested::exact_nearest_even, map, offset);
  for (const nf4::Impl* impl : searches()) {
    SCOPED_TRACE(impl->name);
    const nf4::DoubleQuantized got = nf4::double_quantize(absmax, {.impl = impl}, {.offset = offset, .map = map});
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got.offset), std::bit_cast<std::uint32_t>(want.offset));
    EXPECT_EQ(got.codes, want.codes);
    EXPECT_EQ(bits(got.nested_absmax), bits(want.nested_absmax));
    EXPECT_EQ(bits(got.map), bits(want.map));
  }
}

std::vector<float> random_absmax(std::mt19937& rng, std::size_t n) {
  std::lognormal_distribution<float> d(0.0f, 1.5f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Nf4NestedExact, RandomArraysWithEitherOffsetAndShortTails) {
  std::mt19937 rng(15);
  for (std::size_t n : {0u, 1u, 255u, 257u, 3000u}) {
    SCOPED_TRACE(n);
    const std::vector<float> a = random_absmax(rng, n);
    expect_reference(a);  // torch's mean
    for (float offset : {0.0f, -2.5f, 0.75f, 1e6f}) expect_reference(a, offset);
  }
}

// Per block [m, candidates...] with offset 0, so a = the values and m the block's max: every exact
// midpoint (map[k] + map[k+1]) / 2 * m that is a float and the floats either side of it, for scales
// m that are powers of two (the midpoints are then exact ties) and others.
TEST(Nf4NestedExact, ExactMidpointsTiesAndTheirNeighbours) {
  const nf4::DynamicMap map = nf4::dynamic_map();
  std::vector<float> a;
  int ties[2] = {0, 0};  // midpoints of an even and of an odd k met exactly
  for (float m : {1.0f, 0.5f, 0x1p-20f, 0x1p30f, 0.75f, 1.1f, 3.0e-5f, FLT_MAX}) {
    std::vector<float> block = {m};
    const auto push = [&](float x) {
      if (std::fabs(x) > m) return;
      if (block.size() == nf4::kNestedBlock) {
        a.insert(a.end(), block.begin(), block.end());
        block = {m};
      }
      block.push_back(x);
    };
    for (int k = 0; k < 255; ++k) {
      const double mid = (static_cast<double>(map[k]) + map[k + 1]) / 2 * m;
      const float f = static_cast<float>(mid);
      if (static_cast<double>(f) == mid && std::bit_cast<std::uint32_t>(m) << 9 == 0) ++ties[k % 2];
      push(f);
      push(std::nextafter(f, -INFINITY));
      push(std::nextafter(f, INFINITY));
    }
    a.insert(a.end(), block.begin(), block.end());
  }
  EXPECT_GT(ties[0], 50);
  EXPECT_GT(ties[1], 50);
  expect_reference(a, 0.0f);
}

TEST(Nf4NestedExact, SubnormalZeroAndNonFiniteBlocks) {
  std::mt19937 rng(7);
  std::vector<float> a;
  for (int i = 0; i < 256; ++i) a.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng() % 0x00800000u | (rng() % 2) << 31)));
  for (int i = 0; i < 256; ++i) a.push_back(i % 3 == 0 ? 0x1p-149f : i % 3 == 1 ? -0x1p-149f : 0.0f);
  for (int i = 0; i < 256; ++i) a.push_back(i % 2 ? -0.0f : 0.0f);                             // a zero block
  for (float special : {NAN, INFINITY, -INFINITY, FLT_MAX})                                     // FLT_MAX - -FLT_MAX = Inf
    for (int i = 0; i < 256; ++i) a.push_back(i == 100 ? special : static_cast<float>(i) / 7);
  a.push_back(0.0f);  // a one-value tail
  expect_reference(a, 0.0f);
  expect_reference(a, -FLT_MAX);
  expect_reference(std::vector<float>(300, 2.5f), 2.5f);  // every a = 0
}

// Maps the nested search must take as they are: duplicates, +-0, neighbours far apart in magnitude
// (their sum is not a double), random scales.
TEST(Nf4NestedExact, UnusualMaps) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 4; ++trial) {
    SCOPED_TRACE(trial);
    nf4::DynamicMap map;
    std::uniform_int_distribution<int> exponent(-140, 0);
    for (float& c : map) c = std::ldexp(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng), exponent(rng));
    for (int k = 0; k < 256; k += 17) map[k] = map[(k + 1) % 256];  // duplicates
    map[5] = -0.0f;
    map[6] = 0.0f;
    std::sort(map.begin(), map.end());
    std::vector<float> a = random_absmax(rng, 700);
    for (std::size_t i = 0; i < a.size(); i += 3) a[i] = -std::ldexp(a[i], exponent(rng));
    expect_reference(a, {}, map);
    expect_reference(a, 0.0f, map);
  }
}

// The guess (a table on r = fl(a * fl(1/m))) one too high: r rounded up onto a table cell's lowest
// value B = 0.5 while a / m < v < B, and the map has the midpoint v there (v twice); the search must
// notice from the threshold below the guess.
TEST(Nf4NestedExact, AGuessAboveTheCount) {
  const float b = 0.5f, v = std::nextafter(b, 0.0f);
  int found = 0;
  for (float m = 1.5f; m < 8.0f && found < 8; m = std::nextafter(m, INFINITY) + 0x1p-12f) {
    const float inverse = static_cast<float>(1.0 / m);
    for (float a = b * m; a > 0.49f * m; a = std::nextafter(a, 0.0f)) {
      if (a * inverse < b) break;
      if (static_cast<double>(a) >= static_cast<double>(v) * m) continue;  // a / m < v, exactly
      nf4::DynamicMap map;
      for (int k = 0; k < 256; ++k) map[k] = static_cast<float>(k - 128) / 128;  // map[192] = 0.5
      map[190] = map[191] = v;
      SCOPED_TRACE(testing::Message() << "m " << m << " a " << a);
      std::vector<float> block(16, a);  // vectors of 8
      block[0] = m;
      block[1] = v * m;
      expect_reference(block, 0.0f, map);
      ++found;
      break;
    }
  }
  EXPECT_GE(found, 8);
}

// Every float of a binade (sign `sign`) against m: blocks [m, 255 swept values]. The reference is
// monotone in a (a count of thresholds below 2a, a tie moving up), so where the fast codes are monotone
// too and equal to the reference at both ends of each run of equal codes, they are equal everywhere.
void sweep_binade(float m, int exponent, float sign) {
  const std::uint32_t first = std::bit_cast<std::uint32_t>(std::ldexp(sign, exponent)), count = 1u << 23;
  std::vector<float> a;
  a.reserve(count + count / 255 + 1);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (a.size() % nf4::kNestedBlock == 0) a.push_back(m);
    a.push_back(std::bit_cast<float>(first + i));
  }
  const nf4::DynamicMap map = nf4::dynamic_map();
  const auto reference = [&](float x) {
    std::uint8_t c[2];
    float nested;
    ref::nf4_nested_quantize(std::vector<float>{m, x}, nf4::Nested::exact_nearest_even, map, c, std::span(&nested, 1));
    return c[1];
  };
  for (const nf4::Impl* impl : searches()) {
    const nf4::DoubleQuantized got = nf4::double_quantize(a, {.impl = impl}, {.offset = 0.0f});
    int runs = 0, bad = 0;
    std::size_t prev = 1;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      if (i < a.size() && i % nf4::kNestedBlock == 0) continue;  // the block's m
      const bool end = i == a.size();
      if (!end && got.codes[i] == got.codes[prev] && i != 1) {
        prev = i;
        continue;
      }
      if (!end && i != 1 && (got.codes[i] < got.codes[prev]) != (sign < 0)) ++bad;  // not monotone
      if (i != 1) bad += reference(a[prev]) != got.codes[prev];
      if (!end) bad += reference(a[i]) != got.codes[i];
      ++runs;
      prev = i;
    }
    EXPECT_EQ(bad, 0) << impl->name << ": m " << m << " binade 2^" << exponent << " sign " << sign;
    EXPECT_GT(runs, 3);
  }
}

TEST(Nf4NestedExact, EveryFloatOfThreeBinades) {
  sweep_binade(1.0f, -1, 1.0f);       // [0.5, 1): the map's densest decade
  sweep_binade(0.7f, -8, -1.0f);      // a scale that is not a power of two, negative values
  sweep_binade(0x1p-100f, -110, 1.0f);
}

}  // namespace
