// Every QEFT matvec kernel of the table against ref::qeft_matvec_ref, bit for bit: random layers
// (conformance::random_qeft) of every shape class (OC 8..64, IC 64..512, every group that divides
// IC, the weak boundary IC - k at 0, 1, 7, 8, 31, 32, 33, IC - 1 and random, so inside a vector,
// on a vector edge and on a block edge), activations with NaN, +-Inf, +-0 and subnormals, fp16
// scale / zero / weak-column bit patterns that are subnormal, Inf or NaN (signalling, with a
// payload), every pair of scale and zero exponents (the border of the kernels' exact fp32 table
// path), a table that is inexact in fp32 (the fallback), and buffers at unaligned offsets, each one
// ending at the end of its heap block, y with guard bytes around it (kernel_tester.hpp). Every
// output row count 8 .. 2 * 8 * 8 + 8 (every tail of the 8-row passes). Then the public qeft API.
//
// NaN results: where a single NaN (or one default NaN) is in play the result's bits are fixed by
// IEEE 754 and the platform's default NaN, and they are compared bit for bit. Where two different
// NaNs meet in one fused multiply-add or addition, IEEE 754 leaves open which one comes out, and the
// hardware picks by operand position: x86 takes the first source operand of the instruction the
// compiler chose (vfmadd132/213/231ps, a commuted vaddps), aarch64 the addend first. The reference's
// std::fma (glibc's fmaf on x86) and the kernels' vfmadd / vfmaq then may pick different ones, so
// those tests (`Nan::any`) accept "both NaN" where the bits differ; every non-NaN lane is still exact.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/reference/weak.hpp"

namespace {

using namespace lowbit;
using conformance::random_activations;
using conformance::random_qeft;
using conformance::RandomQeft;

std::vector<const qeft::Impl*> impls() {
  std::vector<const qeft::Impl*> v;
  for (const qeft::Impl& impl : kernels::list<qeft::Impl>())
    if (kernels::available(impl) && std::string_view(impl.name) != "reference") v.push_back(&impl);
  return v;
}

using test::Nan;

// y of impl and of the reference on w and x (kernel_tester.hpp): every buffer placed at `offset`
// elements (odd offsets: no vector alignment) and ending at the end of its heap block, y with guard
// bytes around it.
::testing::AssertionResult same_as_reference(const qeft::Impl& impl, const RandomQeft& r, const std::vector<float>& x,
                                             Nan nan = Nan::exact, std::size_t offset = 0) {
  const test::Placed<std::int16_t> qw{r.qweight, offset};
  const test::Placed<std::uint16_t> sc{r.scales, offset}, sz{r.scaled_zeros, offset}, ow{r.oweight, offset};
  const test::Placed<float> xs{x, offset};
  const qeft::Matrix w{r.oc, r.ic, r.k, r.group, qw.data(), sc.data(), sz.data(), r.k ? ow.data() : nullptr};
  return test::same_as_reference<float>(impl.matvec, &ref::qeft_matvec_ref, offset, {r.oc},
                                        [&](auto fn, float* y) { fn(&w, xs.data(), y); }, nan)
         << " (" << impl.name << " " << r.oc << "x" << r.ic << " k " << r.k << " group " << r.group << " offset " << offset << ")";
}

std::vector<std::size_t> groups_of(std::size_t ic) {
  std::vector<std::size_t> g;
  for (std::size_t s = 32; s <= ic; s += 32)
    if (ic % s == 0) g.push_back(s);
  return g;
}

std::vector<std::size_t> ks_of(std::size_t ic, std::mt19937_64& rng) {
  std::vector<std::size_t> ks{0, 1, 7, 8, 31, 32, 33, ic - 1, rng() % ic};
  for (std::size_t& k : ks) k = std::min(k, ic - 1);
  return ks;
}

// binary16 bit patterns that reach every rule: subnormal, the largest finite, Inf, quiet and
// signalling NaN with payloads, both zeros, either sign.
std::uint16_t special_f16(std::mt19937_64& rng) {
  static const std::uint16_t kSpecial[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00,
                                           0xFC00, 0x7E00, 0xFE00, 0x7C01, 0xFD55, 0x7FFF, 0x3C00, 0xBC00, 0x5BFF};
  return kSpecial[rng() % std::size(kSpecial)];
}

float special_f32(std::mt19937_64& rng) {
  static const std::uint32_t kSpecial[] = {0x7FC00000, 0xFFC00000, 0x7FC12345, 0x7F800001, 0xFFA00000, 0x7F800000,
                                           0xFF800000, 0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF,
                                           0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x3F800000, 0xBF800000};
  return std::bit_cast<float>(kSpecial[rng() % std::size(kSpecial)]);
}

TEST(QeftKernels, AtLeastOneKernelOnThisMachine) {
#if defined(__x86_64__) || defined(__aarch64__)
  EXPECT_FALSE(impls().empty());
#endif
}

// Every IC 64..512, every group dividing it, every k class; OC drawn from 8..64.
TEST(QeftKernels, RandomLayersEveryShapeClass) {
  std::mt19937_64 rng(20261124);
  for (const qeft::Impl* impl : impls())
    for (std::size_t ic = 64; ic <= 512; ic += 64)
      for (std::size_t group : groups_of(ic))
        for (std::size_t k : ks_of(ic, rng)) {
          const std::size_t oc = 8 * (1 + rng() % 8);
          const RandomQeft r = random_qeft(rng(), oc, ic, k, group);
          ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), ic)));
        }
}

TEST(QeftKernels, EveryOutputRowCount) {
  std::mt19937_64 rng(7);
  for (const qeft::Impl* impl : impls())
    for (std::size_t oc = 8; oc <= 2 * 8 * impl->width + 8; oc += 8) {
      const RandomQeft r = random_qeft(rng(), oc, 128, 1 + rng() % 127, 32);
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), 128), Nan::exact, oc % 4));
    }
}

TEST(QeftKernels, UnalignedBuffers) {
  std::mt19937_64 rng(11);
  for (const qeft::Impl* impl : impls())
    for (std::size_t offset : {1, 2, 3, 5, 7, 9, 15, 17}) {
      const std::size_t ic = 64 * (1 + rng() % 6);
      const std::vector<std::size_t> g = groups_of(ic);
      const RandomQeft r = random_qeft(rng(), 16, ic, rng() % ic, g[rng() % g.size()]);
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), ic), Nan::exact, offset));
    }
}

// One special activation a layer (NaN with a payload, signalling NaN, +-Inf, +-0, subnormals):
// its NaN or the one default NaN (Inf times a zero weight) is the only NaN, so bits are fixed.
TEST(QeftKernels, OneSpecialActivation) {
  std::mt19937_64 rng(13);
  for (const qeft::Impl* impl : impls())
    for (int trial = 0; trial < 48; ++trial) {
      const std::size_t ic = 64 * (1 + rng() % 4);
      RandomQeft r = random_qeft(rng(), 16, ic, trial % 3 ? rng() % ic : 0, 32);
      // Some zero weights (zero scale and zero) and zero weak columns, so Inf meets 0 too.
      for (std::size_t i = 0; i < r.scales.size(); ++i)
        if (rng() % 3 == 0) r.scales[i] = r.scaled_zeros[i] = rng() % 2 ? 0x0000 : 0x8000;
      for (auto& v : r.oweight)
        if (rng() % 3 == 0) v = 0;
      std::vector<float> x = random_activations(rng(), ic);
      x[rng() % ic] = special_f32(rng);
      ASSERT_TRUE(same_as_reference(*impl, r, x));
    }
}

// Many specials in x (NaN of several payloads, Inf of both signs, zeros, subnormals): NaN lanes as
// "both NaN" (see the top of this file), all others exact.
TEST(QeftKernels, SpecialActivations) {
  std::mt19937_64 rng(17);
  for (const qeft::Impl* impl : impls())
    for (int trial = 0; trial < 48; ++trial) {
      const std::size_t ic = 64 * (1 + rng() % 4);
      const RandomQeft r = random_qeft(rng(), 8 * (1 + rng() % 4), ic, rng() % ic, 64);
      std::vector<float> x = random_activations(rng(), ic);
      const std::size_t n = 1 + rng() % 8;
      if (trial % 4)
        for (std::size_t i = 0; i < n; ++i) x[rng() % ic] = special_f32(rng);
      else  // only zeros and subnormals: every bit exact
        for (std::size_t i = 0; i < ic; i += 1 + rng() % 5)
          x[i] = std::bit_cast<float>(static_cast<std::uint32_t>(rng() % 0x00800000u) | (rng() % 2 ? 0x80000000u : 0u));
      ASSERT_TRUE(same_as_reference(*impl, r, x, trial % 4 == 0 ? Nan::exact : Nan::any));
    }
}

// fp16 scales, zeros and weak weights with subnormal, huge, Inf and NaN bit patterns.
TEST(QeftKernels, SpecialScalesZerosAndWeakColumns) {
  std::mt19937_64 rng(19);
  for (const qeft::Impl* impl : impls())
    for (int trial = 0; trial < 64; ++trial) {
      const std::size_t ic = 64 * (1 + rng() % 4);
      const std::vector<std::size_t> g = groups_of(ic);
      RandomQeft r = random_qeft(rng(), 8 * (1 + rng() % 4), ic, rng() % ic, g[rng() % g.size()]);
      const bool one = trial % 2 == 0;  // a single special value, or several in every buffer
      const auto hit = [&](std::vector<std::uint16_t>& v) {
        if (v.empty()) return;
        const std::size_t n = one ? 1 : 1 + rng() % 6;
        for (std::size_t i = 0; i < n; ++i) v[rng() % v.size()] = special_f16(rng);
      };
      switch (one ? rng() % 3 : 3) {
        case 0: hit(r.scales); break;
        case 1: hit(r.scaled_zeros); break;
        case 2: hit(r.oweight); break;
        default:
          hit(r.scales);
          hit(r.scaled_zeros);
          hit(r.oweight);
      }
      // Even one special value can make two different NaNs meet (an Inf scale: 0 * Inf is the
      // default NaN, 15 * Inf - Inf another one of another sign on x86): loose NaN lanes.
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), ic), Nan::any));
    }
}

// Single NaN-free specials in scales and zeros (subnormal, largest, Inf) and NaN weak weights of
// one bit pattern per layer: exact bits, payload canonicalisation of the weak columns included.
TEST(QeftKernels, SpecialValuesExactBits) {
  std::mt19937_64 rng(23);
  // The largest finite values overflow binary16 (15 * 0x7BFF): Inf weights, and Inf - Inf in a
  // lane is the one default NaN. Without them, one NaN weak weight is the layer's only NaN.
  static const std::uint16_t kFinite[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x5BFF, 0x7BFF, 0xFBFF};
  static const std::uint16_t kNan[] = {0x7E00, 0xFE00, 0x7C01, 0xFD55, 0x7FFF};
  for (const qeft::Impl* impl : impls())
    for (int trial = 0; trial < 48; ++trial) {
      const std::size_t ic = 64 * (1 + rng() % 4);
      RandomQeft r = random_qeft(rng(), 8 * (1 + rng() % 4), ic, 1 + rng() % (ic - 1), 32);
      const bool nan = trial % 2;
      const std::size_t choices = nan ? std::size(kFinite) - 2 : std::size(kFinite);
      for (int i = 0; i < 6; ++i) {
        r.scales[rng() % r.scales.size()] = kFinite[rng() % choices];
        r.scaled_zeros[rng() % r.scaled_zeros.size()] = kFinite[rng() % choices];
      }
      if (nan) r.oweight[rng() % r.oweight.size()] = kNan[rng() % std::size(kNan)];
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), ic)));
    }
}

// Every pair of scale and zero exponent fields (0 .. 30), random mantissas and signs, each code in
// every group: the kernels' exact fp32 test must hold exactly where it takes the fast path. One
// group of interest per row, the other groups zero (scale = zero = 0), so one wrong table entry
// moves y.
TEST(QeftKernels, EveryScaleAndZeroExponent) {
  std::mt19937_64 rng(29);
  constexpr std::size_t oc = 64, ic = 256, group = 32, groups = ic / group;
  std::vector<std::uint8_t> codes(oc * ic);
  for (std::size_t o = 0; o < oc; ++o)
    for (std::size_t j = 0; j < ic; ++j) codes[o * ic + j] = static_cast<std::uint8_t>((j + 3 * o + j / 16) % 16);
  std::vector<std::pair<unsigned, unsigned>> pairs;
  for (unsigned es = 0; es <= 30; ++es)
    for (unsigned ez = 0; ez <= 30; ++ez) pairs.emplace_back(es, ez);
  const auto f16 = [&](unsigned e) { return static_cast<std::uint16_t>((rng() % 2) << 15 | e << 10 | rng() % 1024); };
  for (const qeft::Impl* impl : impls())
    for (std::size_t p0 = 0; p0 < pairs.size(); p0 += oc) {
      RandomQeft r{oc, ic, 0, group, ref::qeft_pack_codes(codes, oc, ic), std::vector<std::uint16_t>(groups * oc, 0),
                   std::vector<std::uint16_t>(groups * oc, 0), {}};
      for (std::size_t o = 0; o < oc && p0 + o < pairs.size(); ++o) {
        const std::size_t g = o % groups;
        r.scales[g * oc + o] = static_cast<std::uint16_t>(f16(pairs[p0 + o].first) & 0x7FFF);
        r.scaled_zeros[g * oc + o] = f16(pairs[p0 + o].second);
      }
      // Activations 1 +- small: no product overflows f32 and no cancellation hides an entry.
      std::vector<float> x(ic);
      for (float& v : x) v = 1.0f + static_cast<float>(rng() % 1024) * 0x1p-12f;
      ASSERT_TRUE(same_as_reference(*impl, r, x));
      for (float& v : x) v = -v;
      ASSERT_TRUE(same_as_reference(*impl, r, x));
    }
}

// 3 * fp16(1 + 2^-10) - 2^-24 lies just below a binary16 midpoint; fp32 rounds it onto the
// midpoint, so a table made in fp32 alone rounds it up (ties to even). The exact fma16 is 0x4201.
TEST(QeftKernels, InexactInFp32TakesTheExactPath) {
  ASSERT_EQ(ref::fma_f16(3, 0x3C01, 0x8001), 0x4201);
  const float fp32_path = 3.0f * ref::f16_to_f32(0x3C01) + ref::f16_to_f32(0x8001);
  ASSERT_EQ(ref::f32_to_f16(fp32_path), 0x4202);  // what the fallback avoids
  std::mt19937_64 rng(31);
  for (const qeft::Impl* impl : impls())
    for (std::size_t group : {32, 64, 96, 192}) {
      RandomQeft r = random_qeft(rng(), 16, 192, 0, group);
      std::fill(r.scales.begin(), r.scales.end(), std::uint16_t{0x3C01});
      std::fill(r.scaled_zeros.begin(), r.scaled_zeros.end(), std::uint16_t{0x8001});
      r.qweight = ref::qeft_pack_codes(std::vector<std::uint8_t>(16 * 192, 3), 16, 192);
      // x one-hot: y = the table entry itself.
      for (std::size_t j : {0, 5, 64, 100, 191}) {
        std::vector<float> x(192, 0.0f);
        x[j] = 1.0f;
        const qeft::Matrix w = r.view();
        std::vector<float> y(16);
        impl->matvec(&w, x.data(), y.data());
        for (float v : y) EXPECT_EQ(std::bit_cast<std::uint32_t>(v), std::bit_cast<std::uint32_t>(ref::f16_to_f32(0x4201)));
      }
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), 192)));
    }
}

// (code, scale, zero) whose fma16 a table made in fp32 gets wrong (fp32 rounds code*s + z onto a
// binary16 midpoint), found by searching every mantissa pair and code of each exponent pair
// (es, ez = max(exponent field, 1)): there is none for -14 <= es - ez <= 9, and one for most pairs
// at es - ez = 10 and 11. The kernels' exact path stops at 9 (and, on the zero's side, at -12).
// A kernel whose exactness test let any of these through fails here.
TEST(QeftKernels, EdgesOfTheExactTablePath) {
  struct Witness {
    int code;
    std::uint16_t scale, zero;
  };
  static const Witness kWitness[] = {
      {15, 0x2C47, 0x83FF}, {15, 0x2C49, 0x0401}, {15, 0x3049, 0x0801}, {15, 0x3C49, 0x1401}, {15, 0x5849, 0x3001},
      {15, 0x6849, 0x4001}, {12, 0x3001, 0x8001}, {11, 0x3001, 0x07FF}, {11, 0x3C01, 0x13FF}, {11, 0x6C01, 0x43FF},
      {3, 0x3C01, 0x8001},
  };
  for (const Witness& wt : kWitness) {
    const std::uint16_t want = ref::fma_f16(wt.code, wt.scale, wt.zero);
    const float fp32 = std::fma(static_cast<float>(wt.code), ref::f16_to_f32(wt.scale), ref::f16_to_f32(wt.zero));
    ASSERT_NE(ref::f32_to_f16(fp32), want) << wt.code << " " << wt.scale << " " << wt.zero;  // a real witness
  }
  for (const qeft::Impl* impl : impls())
    for (const Witness& wt : kWitness) {
      const std::size_t oc = 8, ic = 64;
      const std::vector<std::uint8_t> codes(oc * ic, static_cast<std::uint8_t>(wt.code));
      RandomQeft r{oc, ic, 0, 32, ref::qeft_pack_codes(codes, oc, ic), std::vector<std::uint16_t>(2 * oc, wt.scale),
                   std::vector<std::uint16_t>(2 * oc, wt.zero), {}};
      const qeft::Matrix w = r.view();
      const float want = ref::f16_to_f32(ref::fma_f16(wt.code, wt.scale, wt.zero));
      for (std::size_t j : {0, 9, 33, 63}) {  // one-hot x: y is the weight itself
        std::vector<float> x(ic, 0.0f), y(oc);
        x[j] = 1.0f;
        impl->matvec(&w, x.data(), y.data());
        for (float v : y)
          ASSERT_EQ(std::bit_cast<std::uint32_t>(v), std::bit_cast<std::uint32_t>(want)) << impl->name << " code " << wt.code;
      }
    }
}

// The largest layer of the suite's shapes with every kind of weak boundary, against the reference.
TEST(QeftKernels, WideLayers) {
  std::mt19937_64 rng(37);
  for (const qeft::Impl* impl : impls())
    for (std::size_t k : {0, 3, 64, 127, 1000, 2047}) {
      const RandomQeft r = random_qeft(rng(), 16, 2048, k, 128);
      ASSERT_TRUE(same_as_reference(*impl, r, random_activations(rng(), 2048)));
    }
}

// ---- the public API ------------------------------------------------------------------------------------

TEST(QeftApi, MatvecAndMatmulEqualTheReference) {
  std::mt19937_64 rng(41);
  const RandomQeft r = random_qeft(rng(), 24, 320, 45, 64);
  const qeft::Matrix w = r.view();
  constexpr std::size_t tokens = 3;
  const std::vector<float> x = random_activations(rng(), tokens * 320);
  std::vector<float> want(tokens * 24);
  for (std::size_t t = 0; t < tokens; ++t) ref::qeft_matvec_ref(&w, x.data() + t * 320, want.data() + t * 24);
  std::vector<float> y(tokens * 24);
  qeft::matmul(w, x, y, tokens);
  for (std::size_t i = 0; i < y.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(want[i])) << i;
  std::vector<float> y1(24);
  for (const qeft::Impl& impl : kernels::list<qeft::Impl>()) {
    if (!kernels::available(impl)) continue;
    qeft::matvec(w, std::span(x).first(320), y1, &impl);
    for (std::size_t o = 0; o < 24; ++o)
      EXPECT_EQ(std::bit_cast<std::uint32_t>(y1[o]), std::bit_cast<std::uint32_t>(want[o])) << impl.name;
  }
}

TEST(QeftApi, SizeAndShapeErrorsThrow) {
  std::mt19937_64 rng(43);
  const RandomQeft r = random_qeft(rng(), 16, 128, 8, 64);
  const qeft::Matrix w = r.view();
  std::vector<float> x(128), y(16);
  EXPECT_NO_THROW(qeft::matvec(w, x, y));
  std::vector<float> x_short(127), y_long(17);
  EXPECT_THROW(qeft::matvec(w, x_short, y), Error);
  EXPECT_THROW(qeft::matvec(w, x, y_long), Error);
  std::vector<float> x2(2 * 128), y2(2 * 16);
  EXPECT_NO_THROW(qeft::matmul(w, x2, y2, 2));
  EXPECT_THROW(qeft::matmul(w, x2, y2, 3), Error);
  EXPECT_THROW(qeft::matmul(w, x2, y, 2), Error);
  const auto bad = [&](auto edit) {
    qeft::Matrix b = w;
    edit(b);
    std::vector<float> bx(b.ic ? b.ic : 1), by(b.oc ? b.oc : 1);
    EXPECT_THROW(qeft::matvec(b, bx, by), Error);
  };
  bad([](qeft::Matrix& b) { b.oc = 12; });
  bad([](qeft::Matrix& b) { b.oc = 0; });
  bad([](qeft::Matrix& b) { b.ic = 96; });
  bad([](qeft::Matrix& b) { b.group = 48; });
  bad([](qeft::Matrix& b) { b.group = 0; });
  bad([](qeft::Matrix& b) { b.group = 96; });  // does not divide 128
  bad([](qeft::Matrix& b) { b.k = 128; });
  bad([](qeft::Matrix& b) { b.oweight = nullptr; });
  bad([](qeft::Matrix& b) { b.qweight = nullptr; });
  bad([](qeft::Matrix& b) { b.scales = nullptr; });
  bad([](qeft::Matrix& b) { b.scaled_zeros = nullptr; });
  qeft::Matrix no_weak = w;  // k == 0: oweight may be null
  no_weak.k = 0;
  no_weak.oweight = nullptr;
  EXPECT_NO_THROW(qeft::matvec(no_weak, x, y));
}

}  // namespace
