// Every MX kernel of the table but the reference against the reference (kernel_tester.hpp): codes,
// scales and BlockStats, decoded values, for every format and rounding, on every tail and at unaligned
// offsets. Inputs: the structured f32 cases, and blocks drawn to reach every rule: grid values, ties and
// their neighbours scaled by the block's 2^X, the saturation edges (max, the midpoint above it, the next
// value), element subnormals, +-0 and zero blocks, NaN and Inf, and block maxima where X clamps at -127
// or reaches the f32 extremes (where the kernels hand a block to the reference). Decoding: random codes
// under every scale byte. Both also under flush-to-zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "flush_to_zero.hpp"
#include "kernel_rows.hpp"
#include "kernel_tester.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"
#include "lowbit/reference/mx.hpp"
#include "random_cases.hpp"

namespace {

using namespace lowbit;
using test::Gen;

mx::EncodeFn encode_fn(const mx::Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : &ref::mx_encode_ref; }
mx::DecodeFn decode_fn(const mx::Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : &ref::mx_decode_ref; }

std::vector<const mx::Impl*> impls() { return test::available_rows<mx::Impl>(false); }

// Encodes x (at the end of its buffer; outputs `offset` elements into guarded buffers) with impl and
// the reference, then decodes the reference's codes with both.
::testing::AssertionResult check(const mx::Impl& impl, const mx::Traits& t, Rounding r, std::span<const float> x, std::size_t offset) {
  const std::size_t n = x.size(), blocks = mx::blocks(n);
  const test::Placed<float> in{x, offset};
  const mx::EncodeParams p{t.format, r, 99, offset};
  ::testing::AssertionResult e = test::same_as_reference<std::uint8_t, std::uint8_t>(
      encode_fn(impl), &ref::mx_encode_ref, offset, {n, blocks}, [&](auto fn, std::uint8_t* codes, std::uint8_t* scales) {
        BlockStats s;
        fn(n, in.data(), codes, scales, &p, &s);
        return s;
      });
  if (!e) return e << " encoding (" << impl.name << " " << t.name << " " << name(r) << ")";
  std::vector<std::uint8_t> codes(n), scales(blocks);
  ref::mx_encode_ref(n, in.data(), codes.data(), scales.data(), &p, nullptr);
  const test::Placed<std::uint8_t> c{codes, offset}, s{scales, offset % 2};
  const mx::DecodeParams d{t.format};
  return test::same_as_reference<float>(decode_fn(impl), &ref::mx_decode_ref, offset, {n},
                                        [&](auto fn, float* out) { fn(n, c.data(), s.data(), out, &d); })
         << " decoding (" << impl.name << " " << t.name << " " << name(r) << ")";
}

// The value of magnitude code c before the scale (MXINT8: c / 64), and the largest magnitude code.
double grid(const mx::Traits& t, unsigned c) {
  return t.format == mx::Format::int8 ? c / 64.0 : ref::mx_element_value(t, static_cast<std::uint8_t>(c));
}
unsigned top_code(const mx::Traits& t) { return t.format == mx::Format::int8 ? 127u : mx::sign_bit(t) - 1u; }

// Blocks whose values reach every rule (see the file comment).
std::vector<float> boundary_blocks(const mx::Traits& t, std::uint64_t seed, std::size_t n) {
  Gen g{conformance::SplitMix64{seed}};
  const double max = grid(t, t.max_code);
  const double next = max + (t.format == mx::Format::int8 ? 1 / 64.0 : std::ldexp(1.0, t.emax - t.element.man_bits));
  const double edges[] = {max, (max + next) / 2, next, (max + 3 * next) / 4};
  std::vector<float> x(n);
  for (std::size_t s = 0; s < n; s += mx::kBlock) {
    const std::size_t len = std::min<std::size_t>(mx::kBlock, n - s);
    const std::uint64_t range = g.next(4);  // the block's top binade E: X = E - emax
    const int E = range == 0 ? g.between(-149, -100) : range == 1 ? g.between(100, 127) : g.between(-30, 30);
    const int X = E - t.emax;
    const int kind = static_cast<int>(g.next(12));
    for (std::size_t i = 0; i < len; ++i) {
      const unsigned c = static_cast<unsigned>(g.next(top_code(t)));
      double v;
      bool near = true;  // steps a few ulps away too
      switch (g.next(kind < 8 ? 5 : 7)) {
        case 0: v = std::ldexp(double{g.unit()}, E + 1), near = false; break;
        case 1: v = std::ldexp(grid(t, c), X); break;
        case 2: v = std::ldexp((grid(t, c) + grid(t, c + 1)) / 2, X); break;  // a tie
        case 3: v = std::ldexp(edges[g.next(std::size(edges))], X); break;
        case 4: v = 0, near = false; break;
        case 5: v = test::f32(static_cast<std::uint32_t>(g.next(0x00800000))), near = false; break;  // f32 subnormal
        default: v = test::special(g), near = false; break;
      }
      float f = static_cast<float>(v);
      if (near && std::isfinite(f) && g.next(2)) f = test::step(f, g.between(-2, 2));
      x[s + i] = g.sign(f);
    }
    const std::size_t at = s + g.next(len);
    switch (kind) {
      case 8: std::fill(x.begin() + static_cast<std::ptrdiff_t>(s), x.begin() + static_cast<std::ptrdiff_t>(s + len), g.sign(0.0f)); break;
      case 9: x[at] = g.sign(NAN); break;
      case 10: x[at] = g.sign(INFINITY); break;
      case 11: x[at] = g.sign(std::ldexp(1.0f + g.unit(), E)); break;  // the block's maximum in its top binade
      default: break;
    }
  }
  return x;
}

TEST(MxKernels, EveryTailEveryOffsetEqualsTheReference) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no MX kernel but the reference in this build";
  std::vector<float> cases;  // structured cases: specials, ties, subnormals
  for (std::uint32_t b : conformance::f32_cases(5, 2048)) cases.push_back(std::bit_cast<float>(b));
  for (const mx::Impl* impl : list) {  // lengths past the kernels' chunks of 16 blocks too
    const std::vector<std::size_t> lengths =
        test::tail_lengths(impl->width, {3 * impl->width + 3, 5 * mx::kBlock + 7, 16 * mx::kBlock - 1, 16 * mx::kBlock + 1,
                                         33 * mx::kBlock + 5});
    for (const mx::Traits& t : mx::kFormats) {
      const std::vector<float> blocks = boundary_blocks(t, 7, 40 * mx::kBlock);
      for (Rounding r : kRoundings)
        ASSERT_TRUE(test::every_tail(lengths, [&](std::size_t n, std::size_t offset) {
          ::testing::AssertionResult a = check(*impl, t, r, std::span<const float>(cases).subspan((n * 13 + offset) % 512, n), offset);
          return a ? check(*impl, t, r, std::span<const float>(blocks).subspan(offset * mx::kBlock / 2, n), offset) : a;
        }));
    }
  }
}

// Long streams of boundary blocks, every format and rounding.
void long_streams(const std::vector<const mx::Impl*>& list) {
  std::uint64_t seed = 100;
  for (const mx::Traits& t : mx::kFormats)
    for (Rounding r : kRoundings) {
      const std::vector<float> x = boundary_blocks(t, seed++, 400 * mx::kBlock + 21);
      for (const mx::Impl* impl : list) ASSERT_TRUE(check(*impl, t, r, x, 1));
    }
}

// Random codes (every byte: the bits above an FP6/FP4 code are ignored alike) under every scale byte.
void decode_every_scale(const std::vector<const mx::Impl*>& list) {
  Gen g{conformance::SplitMix64{3}};
  const std::size_t n = 256 * mx::kBlock - 5;
  std::vector<std::uint8_t> codes(n), scales(mx::blocks(n));
  for (std::uint8_t& c : codes) c = static_cast<std::uint8_t>(g.rng.next());
  for (std::size_t b = 0; b < scales.size(); ++b) scales[b] = static_cast<std::uint8_t>(b);
  for (const mx::Traits& t : mx::kFormats) {
    const mx::DecodeParams d{t.format};
    for (const mx::Impl* impl : list)
      EXPECT_TRUE(test::same_as_reference<float>(decode_fn(*impl), &ref::mx_decode_ref, 3, {n},
                                                 [&](auto fn, float* out) { fn(n, codes.data(), scales.data(), out, &d); }))
          << impl->name << " " << t.name;
  }
}

TEST(MxKernels, LongBoundaryStreams) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no MX kernel but the reference in this build";
  long_streams(list);
}

TEST(MxKernels, DecodeEveryScale) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no MX kernel but the reference in this build";
  decode_every_scale(list);
}

// The reference computes in integers; the kernels' f32 products by 2^-X and 2^X must not depend on
// flush-to-zero either (blocks whose products could be subnormal go to the reference).
TEST(MxKernels, UnderFlushToZero) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no MX kernel but the reference in this build";
  const test::FlushToZero ftz;
  long_streams(list);
  decode_every_scale(list);
}

}  // namespace
