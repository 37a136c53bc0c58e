// Every GSE-INT kernel of the table against the reference (kernel_tester.hpp): codes, exponent
// fields and BlockStats, decoded values and the decoder's code check, for every format parameter,
// rounding, input type and tail length, at unaligned offsets, with each input ending exactly at the
// end of its heap buffer and guard bytes around every output. Fixed seeds throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/gse.hpp"

namespace {

using namespace lowbit;

std::vector<const gse::Impl*> impls() {
  std::vector<const gse::Impl*> v;
  for (const gse::Impl& impl : kernels::list<gse::Impl>())
    if (kernels::available(impl)) v.push_back(&impl);
  return v;
}

template <class T> T from_f32(float x) {
  if constexpr (std::is_same_v<T, f16>) {  // nearest even, by the reference's own packing
    const ref::Unpacked u = ref::unpack(x);
    const std::uint16_t sign = u.sign ? 0x8000 : 0;
    if (u.kind == ref::Unpacked::Kind::nan) return f16{static_cast<std::uint16_t>(sign | 0x7E00)};
    if (u.kind == ref::Unpacked::Kind::inf) return f16{static_cast<std::uint16_t>(sign | 0x7C00)};
    return f16{static_cast<std::uint16_t>(ref::pack_nearest(u.sign, u.sig, u.exp, kF16Layout))};
  }
  else if constexpr (std::is_same_v<T, bf16>) return bf16{static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(x) >> 16)};
  else return x;
}

// The exponents that T holds: its smallest subnormal to its largest binade.
template <class T> constexpr int kMinExp = std::is_same_v<T, f16> ? -24 : std::is_same_v<T, bf16> ? -133 : -149;
template <class T> constexpr int kMaxExp = std::is_same_v<T, f16> ? 15 : 127;

struct Gen {
  conformance::SplitMix64 rng;
  std::uint64_t next(std::uint64_t n) { return rng.next() % n; }
  int between(int lo, int hi) { return lo + static_cast<int>(next(static_cast<std::uint64_t>(hi - lo + 1))); }
  float sign(float v) { return next(2) ? -v : v; }
};

// One group of `len` values of a kind that reaches one rule of the codec, its maximum near 2^base.
template <class T> void fill_group(Gen& g, T* out, std::size_t len, const gse::Format& f) {
  const int lo = kMinExp<T>, hi = kMaxExp<T>;
  const int base = g.next(2) ? std::clamp(g.between(f.emin() - 3, f.emax() + 3), lo, hi) : g.between(lo, hi);
  const int q = base - (f.bits - 2);  // the element quantum at exponent base
  const float half = 0.5f;
  for (std::size_t i = 0; i < len; ++i) {
    float v = 0;
    switch (g.next(8)) {
      case 0: v = std::ldexp(static_cast<float>(g.rng.next() >> 40), base - 24 - g.between(0, 12)); break;  // mixed sizes
      case 1: v = std::ldexp(static_cast<float>(g.next(1u << (f.bits - 1))) + half, q); break;  // exact ties
      case 2: v = std::ldexp(static_cast<float>(g.next(1u << (f.bits - 1))) + half + g.between(-1, 1) * 0x1p-12f, q); break;
      case 3: v = std::ldexp(static_cast<float>(g.rng.next() >> 40), g.between(-149, -120) - 24); break;  // tiny, f32 subnormals
      case 4: v = 0; break;
      default: v = std::ldexp(static_cast<float>(g.rng.next() >> 40), base - 24); break;
    }
    out[i] = from_f32<T>(g.sign(v));
  }
  const std::size_t at = g.next(len);
  switch (g.next(10)) {
    case 0:  // the maximum rounds past 2^(b-1) - 1 (or sits just below/above that tie)
      out[at] = from_f32<T>(g.sign(std::ldexp(f.max_mantissa() + half + g.between(-1, 1) * 0x1p-10f, q)));
      break;
    case 1: out[at] = from_f32<T>(g.sign(g.next(3) ? INFINITY : NAN)); break;
    case 2: std::fill(out, out + len, from_f32<T>(g.sign(0.0f))); break;  // all zero (mixed signs below)
    case 3: for (std::size_t i = 0; i < len; ++i) out[i] = from_f32<T>(g.sign(std::ldexp(1.0f + i, -149))); break;
    case 4: out[at] = from_f32<T>(g.sign(std::ldexp(1.9f, g.between(hi - 3, hi)))); break;  // exponent overflow
    default: break;
  }
  if (g.next(4) == 0) out[g.next(len)] = from_f32<T>(-0.0f);
}

template <class T> std::vector<T> make_input(Gen& g, std::size_t n, const gse::Format& f) {
  std::vector<T> v(n);
  const std::size_t N = static_cast<std::size_t>(f.group);
  for (std::size_t i = 0; i < n; i += N) fill_group(g, v.data() + i, std::min(N, n - i), f);
  return v;
}

struct Totals {  // what the reference reported over a test: every rule must have been reached
  BlockStats stats;
};

// One encode call of `impl` against the reference, `offset` elements into every buffer; the
// reference's BlockStats go to `totals`.
template <class In>
::testing::AssertionResult check_encode(const gse::Impl& impl, const std::vector<In>& values, std::size_t offset,
                                        const gse::EncodeParams& p, Totals& totals) {
  const std::size_t n = values.size(), groups = p.format.groups(n);
  const test::Placed<In> in{values, offset};
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(groups);
  BlockStats stats;
  ref::gse_encode_ref<In>(n, in.data(), codes.data(), exps.data(), &p, &stats);
  totals.stats += stats;
  return test::same_as_reference<std::int8_t, std::uint8_t>(
             gse::encode_kernel<In>(impl), &ref::gse_encode_ref<In>, offset, {n, groups},
             [&](auto fn, std::int8_t* c, std::uint8_t* e) {
               BlockStats s;
               s.groups = 1000;  // the kernel adds to what is there
               fn(n, in.data(), c, e, &p, &s);
               return s;
             })
         << " (" << impl.name << " " << name(FloatTraits<In>::type) << " b=" << p.format.bits << " N=" << p.format.group
         << " exp_bits=" << p.format.exp_bits << " bias=" << p.format.exp_bias << " offset=" << p.format.exp_offset
         << " bump=" << (p.format.mantissa_overflow == gse::MantissaOverflow::bump)
         << " nan_ovf=" << (p.format.exponent_overflow == gse::ExponentOverflow::nan) << " " << name(p.rounding) << ")";
}

// The lengths of the tails of both the kernel's vectors and the format's groups.
std::vector<std::size_t> lengths(const gse::Impl& impl, std::size_t N) {
  std::vector<std::size_t> v = test::tail_lengths(impl.width, {N - 1, N, N + 1, 2 * N, 2 * N + 1, 3 * N + 3});
  for (std::size_t n = 2 * impl.width + 2; n <= 2 * N + 1; n += (N <= 64 ? 1 : 7)) v.push_back(n);
  return v;
}

template <class In> void encode_tails(const gse::Impl& impl, Totals& totals) {
  Gen g{{static_cast<std::uint64_t>(sizeof(In)) * 1000 + 17}};
  const gse::Format formats[] = {{8, 16, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate},
                               {4, 32, 8, 127, 0, gse::MantissaOverflow::bump, gse::ExponentOverflow::nan},
                               {6, 64, 5, 10, -40, gse::MantissaOverflow::bump, gse::ExponentOverflow::saturate},
                               {8, 256, 8, 127, 20, gse::MantissaOverflow::saturate, gse::ExponentOverflow::nan}};
  for (const gse::Format& f : formats)
    for (Rounding r : kRoundings)
      ASSERT_TRUE(test::every_tail(lengths(impl, static_cast<std::size_t>(f.group)), [&](std::size_t n, std::size_t offset) {
        return check_encode(impl, make_input<In>(g, n, f), offset, gse::EncodeParams{f, r, 0xC0FFEE, 1000 + n, nullptr}, totals);
      }));
}

TEST(GseKernels, EncodeEveryTailEveryOffsetEqualsTheReference) {
  Totals totals;
  for (const gse::Impl* impl : impls()) {
    encode_tails<float>(*impl, totals);
    encode_tails<f16>(*impl, totals);
    encode_tails<bf16>(*impl, totals);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GE(impls().size(), 2u) << "only the reference ran: no SIMD kernel for this CPU";
}

// Every bits x group x exponent field x offset x rounding x input type; the overflow options drawn.
TEST(GseKernels, EncodeEveryFormatEqualsTheReference) {
  struct Field { int bits, bias; };
  const Field fields[] = {{5, 15}, {5, 0}, {5, 30}, {5, 7}, {8, 127}, {8, 0}, {8, 254}, {8, 100}};
  Totals totals;
  for (const gse::Impl* impl : impls()) {
    Gen g{{2026}};
    std::size_t k = 0;
    for (int bits = 4; bits <= 8; ++bits)
      for (int group : gse::kGroupSizes)
        for (const Field& e : fields)
          for (int offset : {-40, 0, 20, ((bits + group) % 2 ? -100 : 100)})
            for (Rounding r : kRoundings) {
              ++k;
              const gse::Format f{bits, group, e.bits, e.bias, offset,
                                g.next(2) ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate,
                                g.next(2) ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate};
              const std::size_t n = static_cast<std::size_t>(group) * (1 + k % 3) + (k / 3 % 2 ? g.next(group) : 0);
              gse::EncodeParams p{f, r, k, k * 31, nullptr};
              std::vector<std::uint32_t> words;
              if (r == Rounding::sr && k / 4 % 2) {  // explicit random words instead of Philox
                for (std::size_t i = 0; i < n; ++i) words.push_back(static_cast<std::uint32_t>(g.rng.next()));
                p.random_bits = words.data();
              }
              ASSERT_TRUE(check_encode(*impl, make_input<float>(g, n, f), k % 3, p, totals));
              ASSERT_TRUE(check_encode(*impl, make_input<f16>(g, n, f), (k + 1) % 3, p, totals));
              ASSERT_TRUE(check_encode(*impl, make_input<bf16>(g, n, f), (k + 2) % 3, p, totals));
            }
  }
  // The inputs reach every rule of the reference.
  const BlockStats& s = totals.stats;
  EXPECT_GT(s.nan_groups, 0u);
  EXPECT_GT(s.exp_underflow, 0u);
  EXPECT_GT(s.exp_overflow, 0u);
  EXPECT_GT(s.bumped, 0u);
  EXPECT_GT(s.saturated, 0u);
  EXPECT_GT(s.groups, 10000u);
}

TEST(GseKernels, EncodeWithoutStatsAndMaxRoundingUp) {
  for (const gse::Impl* impl : impls())
    for (int bits = 4; bits <= 8; ++bits) {
      // A group whose maximum is (2^(b-1) - 1/2) * 2^k: rne and rna round it past max.
      const gse::Format f{bits, 32, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
      std::vector<float> x(96);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(static_cast<float>(i % 32) - 12.5f, -3);
      x[7] = std::ldexp(f.max_mantissa() + 0.5f, -3);
      x[40] = -std::ldexp(f.max_mantissa() + 0.5f, -3);
      for (Rounding r : {Rounding::rne, Rounding::rna, Rounding::rtz}) {
        const gse::EncodeParams p{f, r, 0, 0, nullptr};
        std::vector<std::int8_t> codes(x.size()), want(x.size());
        std::vector<std::uint8_t> exps(3), want_exps(3);
        gse::encode_kernel<float>(*impl)(x.size(), x.data(), codes.data(), exps.data(), &p, nullptr);
        ref::gse_encode_ref<float>(x.size(), x.data(), want.data(), want_exps.data(), &p, nullptr);
        EXPECT_EQ(codes, want) << impl->name << " b=" << bits << " " << name(r);
        EXPECT_EQ(exps, want_exps) << impl->name << " b=" << bits << " " << name(r);
      }
    }
}

// Every int8 code under every exponent field (the NaN field included), for every output type:
// values and the code check (valid: codes clamped to +-max, else every int8 code is drawn).
template <class Out>
::testing::AssertionResult check_decode(const gse::Impl& impl, const gse::Format& f, std::size_t n, std::size_t offset,
                                        bool valid = false) {
  const std::size_t N = static_cast<std::size_t>(f.group), fields = f.nan_field() + 1, groups = f.groups(n);
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(groups);
  const int max = f.max_mantissa();
  for (std::size_t i = 0; i < n; ++i) {  // every 5th group all zero
    const int c = i / N % 5 == 3 ? 0 : static_cast<std::int8_t>(i * 37 + i / 256);
    codes[i] = static_cast<std::int8_t>(valid ? std::clamp(c, -max, max) : c);
  }
  for (std::size_t g = 0; g < groups; ++g) exps[g] = static_cast<std::uint8_t>(g * 7 % fields);
  const test::Placed<std::int8_t> c{codes, offset};
  const test::Placed<std::uint8_t> e{exps, offset};
  return test::same_as_reference<Out>(gse::decode_kernel<Out>(impl), &ref::gse_decode_ref<Out>, offset, {n},
                                      [&](auto fn, Out* out) { return fn(n, c.data(), e.data(), out, &f); })
         << " (" << impl.name << " -> " << name(FloatTraits<Out>::type) << " b=" << f.bits << " N=" << f.group
         << " exp_bits=" << f.exp_bits << " bias=" << f.exp_bias << " offset=" << f.exp_offset << ")";
}

TEST(GseKernels, DecodeEveryCodeEveryFieldEqualsTheReference) {
  struct Field { int bits, bias; };
  const Field fields[] = {{5, 15}, {5, 0}, {5, 30}, {8, 127}, {8, 0}, {8, 254}};
  for (const gse::Impl* impl : impls()) {
    std::size_t k = 0;
    for (int bits = 4; bits <= 8; ++bits)
      for (const Field& e : fields)
        for (int offset : {-100, -40, 0, 20, 100}) {
          ++k;
          const int group = gse::kGroupSizes[k % 3 == 0 ? k / 3 % gse::kGroupSizes.size() : 0];
          const gse::Format f{bits, group, e.bits, e.bias, offset, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
          const std::size_t n = (f.nan_field() + 1) * static_cast<std::size_t>(group);  // every field once
          ASSERT_TRUE(check_decode<float>(*impl, f, n - k % 5, k % 4, k % 2));
          ASSERT_TRUE(check_decode<f16>(*impl, f, n - k % 7, (k + 1) % 4, k % 2));
          ASSERT_TRUE(check_decode<bf16>(*impl, f, n - k % 3, (k + 2) % 4, k % 2));
        }
  }
}

TEST(GseKernels, DecodeEveryTailEqualsTheReference) {
  for (const gse::Impl* impl : impls())
    for (int group : {16, 32, 64})
      for (bool valid : {false, true}) {
        const gse::Format f{8, group, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
        const std::vector<std::size_t> tails = lengths(*impl, static_cast<std::size_t>(group));
        ASSERT_TRUE(test::every_tail(tails, [&](std::size_t n, std::size_t offset) { return check_decode<float>(*impl, f, n, offset, valid); }));
        ASSERT_TRUE(test::every_tail(tails, [&](std::size_t n, std::size_t offset) { return check_decode<f16>(*impl, f, n, offset, valid); }));
        ASSERT_TRUE(test::every_tail(tails, [&](std::size_t n, std::size_t offset) { return check_decode<bf16>(*impl, f, n, offset, valid); }));
      }
}

// The decoder's code check sees one invalid code wherever it is: any element of a tail, a NaN
// group, a group decoded by the scalar path (extreme exponents), for every b.
TEST(GseKernels, DecodeReportsEveryInvalidCode) {
  for (const gse::Impl* impl : impls())
    for (int bits = 4; bits <= 8; ++bits)
      for (int offset : {0, -100}) {  // -100: d < -126, the scalar path, unless the codes are 0
        const gse::Format f{bits, 32, 5, 15, offset, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
        const int max = f.max_mantissa();
        for (std::size_t n : {std::size_t{1}, std::size_t{31}, std::size_t{33}, std::size_t{100}}) {
          std::vector<std::int8_t> codes(n);
          for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<std::int8_t>(static_cast<int>(i * 7 % (2 * max + 1)) - max);
          std::vector<std::uint8_t> exps(f.groups(n), 17);
          exps.back() = static_cast<std::uint8_t>(f.nan_field());  // the last group is NaN
          std::vector<float> out(n);
          ASSERT_TRUE(gse::decode_kernel<float>(*impl)(n, codes.data(), exps.data(), out.data(), &f)) << impl->name << " b=" << bits;
          for (std::size_t at = 0; at < n; ++at)
            for (int bad : {max + 1, -max - 1, 127, -128}) {
              if (bad > 127 || bad < -128 || (bad >= -max && bad <= max)) continue;
              std::vector<std::int8_t> c = codes;
              c[at] = static_cast<std::int8_t>(bad);
              ASSERT_FALSE(gse::decode_kernel<float>(*impl)(n, c.data(), exps.data(), out.data(), &f))
                  << impl->name << " b=" << bits << " n=" << n << " code " << bad << " at " << at;
            }
        }
      }
}

// ---- the public API ---------------------------------------------------------------------------------

// gse::decode checks the codes in its kernel: an invalid one is malformed data, named by its element.
TEST(GseApi, DecodeRejectsCodesOutsideTheRange) {
  for (const gse::Impl* impl : impls()) {
    gse::Options o;
    o.format.bits = 6;
    o.impl = impl;
    std::vector<std::int8_t> codes(100, 31);
    const std::vector<std::uint8_t> exps(o.format.groups(codes.size()), 15);
    std::vector<float> out(codes.size());
    EXPECT_NO_THROW(gse::decode(codes, exps, std::span(out), o)) << impl->name;
    codes[97] = -32;
    try {
      gse::decode(codes, exps, std::span(out), o);
      ADD_FAILURE() << impl->name << ": no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::data) << impl->name;
      EXPECT_STREQ(e.what(), "code -32 at element 97 is outside +-31 for 6-bit elements") << impl->name;
    }
    EXPECT_THROW(gse::decode<f16>(codes, exps, o), Error) << impl->name;
    EXPECT_THROW(gse::decode<bf16>(codes, exps, o), Error) << impl->name;
  }
}

}  // namespace
