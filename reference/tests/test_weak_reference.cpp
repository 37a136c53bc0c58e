// The OWQ / QEFT reference: every golden case of xvyaward/qeft and xvyaward/owq bit for bit
// (through the conformance suite), the manifests' SHA-256, the exactness of the fp16 fma in
// binary64 (Boost), pack/unpack as inverses on every bit pattern (RapidCheck), the quantizer's
// rules (all-zero groups, symmetric, the mse search's first strict minimum, weak-only groups),
// clamping, checkpoints and errors.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <random>

#include "lowbit/conformance/sha256.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/reference/torch_ops.hpp"
#include "lowbit/reference/weak.hpp"

namespace {

using namespace lowbit;
using conformance::GoldenDir;
using conformance::WeakGolden;

std::vector<float> gaussian(std::uint64_t seed, std::size_t n, float sigma = 0.03f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

weak::QuantOptions minmax(int bits = 4, int group = 128) {
  weak::QuantOptions o;
  o.bits = bits;
  o.group = group;
  o.tuning = weak::Tuning::minmax;
  return o;
}

TEST(WeakGolden, ManifestSha256AndSizes) {
  for (weak::Layout l : {weak::Layout::qeft, weak::Layout::owq}) {
    const WeakGolden g(GoldenDir::from_env(), l);
    EXPECT_EQ(g.cases().size(), 6u);
    ASSERT_GE(g.entries().size(), 70u);
    for (const auto& [file, e] : g.entries()) {
      const std::vector<std::uint8_t> b = g.dir().bytes(g.folder() + "/" + file);
      EXPECT_EQ(b.size(), e.bytes) << file;
      EXPECT_EQ(conformance::sha256_hex(b), e.sha) << file;
    }
  }
}

TEST(WeakGolden, EveryCaseBitForBit) {
  conformance::BlockSuiteOptions o;
  const std::vector<conformance::Check> checks = conformance::run_weak_suite(kernels::reference<qeft::Impl>(), GoldenDir::from_env(), o);
  ASSERT_EQ(checks.size(), 5u);  // qeft pack, qeft unpack, owq pack, owq unpack, matvec
  for (const conformance::Check& c : checks) {
    EXPECT_GT(c.cases, c.profile != "matvec" ? 100000u : 500u) << c.name;
    EXPECT_TRUE(c.passed()) << c.format << " " << c.name << ": " << (c.first_errors.empty() ? "" : c.first_errors[0]);
  }
}

// a * b + c for a code a and binary16 b, c is exact in binary64: the premise of ref::fma_f16.
TEST(WeakFp16, FmaIsExactInBinary64) {
  using Exact = boost::multiprecision::cpp_bin_float_50;
  std::mt19937_64 rng(7);
  std::size_t checked = 0;
  for (std::uint32_t b = 0; b < 0x10000; b += 1 + rng() % 7) {
    if ((b & 0x7C00) == 0x7C00) continue;  // Inf / NaN
    for (int a = 0; a < 16; a += 3) {
      const std::uint16_t c = static_cast<std::uint16_t>(rng() % 0x7C00 | (rng() & 0x8000));
      const double fb = ref::f16_to_f32(static_cast<std::uint16_t>(b)), fc = ref::f16_to_f32(c);
      const Exact exact = Exact(a) * Exact(fb) + Exact(fc);
      ASSERT_EQ(Exact(a * fb + fc), exact) << a << " " << b << " " << c;
      ++checked;
    }
  }
  EXPECT_GT(checked, 40000u);
  // One rounding: 1 * 2049 (not representable) + 0 rounds to even.
  EXPECT_EQ(ref::fma_f16(15, ref::f32_to_f16(1024.0f), ref::f32_to_f16(1.0f)), ref::f32_to_f16(15360.0f));
  EXPECT_EQ(ref::fma_f16(1, ref::f32_to_f16(2048.0f), ref::f32_to_f16(1.0f)), ref::f32_to_f16(2048.0f));
  EXPECT_EQ(ref::fma_f16(1, ref::f32_to_f16(2048.0f), ref::f32_to_f16(3.0f)), ref::f32_to_f16(2052.0f));
}

RC_GTEST_PROP(WeakPack, QeftUnpackInvertsPackOnEveryBitPattern, ()) {
  const std::size_t oc = 4 * *rc::gen::inRange<std::size_t>(1, 5), ic = 64 * *rc::gen::inRange<std::size_t>(1, 4);
  const auto words = *rc::gen::container<std::vector<std::int16_t>>(oc / 4 * ic, rc::gen::arbitrary<std::int16_t>());
  const std::vector<std::uint8_t> codes = ref::qeft_unpack_codes(words, oc, ic);
  RC_ASSERT(ref::qeft_pack_codes(codes, oc, ic) == words);
  for (std::uint8_t c : codes) RC_ASSERT(c < 16);
}

RC_GTEST_PROP(WeakPack, OwqUnpackInvertsPackOnEveryBitPattern, ()) {
  const int bits = *rc::gen::element(3, 4);
  const std::size_t oc = 2 * *rc::gen::inRange<std::size_t>(1, 5), ic = 32 * *rc::gen::inRange<std::size_t>(1, 5);
  const auto words = *rc::gen::container<std::vector<std::int32_t>>(owq::words(ic, bits) * oc, rc::gen::arbitrary<std::int32_t>());
  const std::vector<std::uint8_t> codes = ref::owq_unpack_codes(words, oc, ic, bits);
  RC_ASSERT(ref::owq_pack_codes(codes, oc, ic, bits) == words);
  for (std::uint8_t c : codes) RC_ASSERT(c < (1u << bits));
}

// The 3-bit words straddle: code 10 spans bits 30..32, code 21 bits 63..65.
TEST(WeakPack, OwqThreeBitStraddlingCodes) {
  std::vector<std::uint8_t> codes(2 * 32, 0);
  codes[10] = 0b101;
  codes[21] = 0b011;
  const std::vector<std::int32_t> w = ref::owq_pack_codes(codes, 2, 32, 3);
  ASSERT_EQ(w.size(), 6u);  // 3 words x 2 rows, word-major
  EXPECT_EQ(static_cast<std::uint32_t>(w[0]), 0b01u << 30);
  EXPECT_EQ(static_cast<std::uint32_t>(w[2]), 1u | 1u << 31);
  EXPECT_EQ(static_cast<std::uint32_t>(w[4]), 0b01u);
}

TEST(WeakQuantizer, AllZeroGroupGetsMinusOneToOne) {
  const std::vector<float> zeros{0.0f, -0.0f, 0.0f, -0.0f};
  const ref::WeakGroupParams p4 = ref::weak_find_params(zeros, minmax(4));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(p4.scale), std::bit_cast<std::uint32_t>(2.0f / 15.0f));
  EXPECT_EQ(p4.zero, 7.0f);  // round(7.4999996)
  const ref::WeakGroupParams p3 = ref::weak_find_params(zeros, minmax(3, 0));
  EXPECT_EQ(p3.scale, 2.0f / 7.0f);
  EXPECT_EQ(p3.zero, 3.0f);
  weak::QuantOptions s = minmax(4);
  s.sym = true;
  EXPECT_EQ(ref::weak_find_params(zeros, s).scale, 1.0f / 8.0f);
}

TEST(WeakQuantizer, RangeContainsZeroAndSignOfZeroPoint) {
  const std::vector<float> pos{0.5f, 1.0f, 2.0f}, neg{-0.5f, -3.0f};
  const ref::WeakGroupParams p = ref::weak_find_params(pos, minmax());
  EXPECT_EQ(p.scale, 2.0f / 15.0f);
  EXPECT_TRUE(p.zero == 0.0f && std::signbit(p.zero));  // round(-0.0 / s) = -0.0
  const ref::WeakGroupParams n = ref::weak_find_params(neg, minmax());
  EXPECT_EQ(n.scale, 3.0f / 15.0f);
  EXPECT_EQ(n.zero, 15.0f);
}

TEST(WeakQuantizer, SymmetricCodes) {
  weak::QuantOptions o = minmax(4);
  o.sym = true;
  const std::vector<float> x{-1.0f, 0.25f, 0.5f};
  const ref::WeakGroupParams p = ref::weak_find_params(x, o);
  EXPECT_EQ(p.scale, 1.0f / 8.0f);
  EXPECT_EQ(p.zero, 0.0f);
  EXPECT_EQ(ref::weak_fake_quant(-1.0f, p, o), -1.0f);   // code -8
  EXPECT_EQ(ref::weak_fake_quant(2.0f, p, o), 7.0f / 8);  // clamps at 7
}

// The mse search picks the first strict minimum of mean(|x - q(x)|^2.4) over its candidates,
// recomputed here independently (double loss, exact comparisons away from near-ties).
TEST(WeakQuantizer, MseIsFirstStrictMinimumOfCandidates) {
  for (int bits : {3, 4})
    for (int grid : {1, 7, 40}) {
      weak::QuantOptions o;
      o.bits = bits;
      o.group = 0;
      o.tuning = weak::Tuning::mse;
      o.grid = grid;
      std::vector<float> x = gaussian(100 + bits * 10 + grid, 96);
      x[5] = 0.4f;  // an outlier: clipping pays
      const ref::WeakGroupParams got = ref::weak_find_params(x, o);
      float xmin = 0, xmax = 0;
      for (float v : x) xmin = std::min(xmin, v), xmax = std::max(xmax, v);
      const int maxq = (1 << bits) - 1;
      double best = 1e10;
      float best_scale = 0, best_zero = 0;
      for (int i = 1; i <= grid; ++i) {
        const float tmp_max = (xmax - xmin) / static_cast<float>(grid) * static_cast<float>(i);
        const float s = std::max(tmp_max / static_cast<float>(maxq), 1e-8f);
        for (int zp = 0; zp <= maxq; ++zp) {
          double loss = 0;
          for (float v : x) {
            const float q = std::min(std::max(std::nearbyint(v / s) + static_cast<float>(zp), 0.0f), static_cast<float>(maxq));
            loss += std::pow(std::fabs(static_cast<double>(v) - static_cast<double>(s * (q - static_cast<float>(zp)))), 2.4);
          }
          loss /= static_cast<double>(x.size());
          if (loss < best) best = loss, best_scale = s, best_zero = static_cast<float>(zp);
        }
      }
      // The final scale is recomputed from the chosen range: (max(new_max, 0) - min(new_min, 0)) / maxq.
      EXPECT_NEAR(got.scale, best_scale, best_scale * 1e-5f) << bits << " " << grid;
      EXPECT_EQ(got.zero, best_zero) << bits << " " << grid;
    }
}

TEST(WeakQuantizer, MseOnAllZeroGroupKeepsThePositiveZero) {
  weak::QuantOptions o;
  o.tuning = weak::Tuning::mse;
  const ref::WeakGroupParams p = ref::weak_find_params(std::vector<float>(8, 0.0f), o);
  EXPECT_EQ(p.scale, 1e-8f);
  EXPECT_TRUE(p.zero == 0.0f && !std::signbit(p.zero));
}

// k >= 2 groups of weak columns: every weak-only group copies the last quantized group (the
// reference code stops after the first copy and leaves the scales buffer short).
TEST(WeakQuantizer, EveryWeakOnlyGroupCopiesThePreviousGroup) {
  const std::size_t oc = 8, ic = 512;
  std::vector<std::int32_t> weak;
  for (std::int32_t j = 0; j < 300; ++j) weak.push_back(j);
  const ref::WeakQuantized q = ref::weak_quantize(weak::Layout::qeft, gaussian(3, oc * ic), oc, ic, weak, minmax());
  ASSERT_EQ(q.groups, 4u);
  for (std::size_t r = 0; r < oc; ++r)
    for (std::size_t g = 2; g < 4; ++g) {
      EXPECT_EQ(q.scale[r * 4 + g], q.scale[r * 4 + 1]);
      EXPECT_EQ(q.zero[r * 4 + g], q.zero[r * 4 + 1]);
    }
  EXPECT_EQ(ref::qeft_pack(q).scales.size(), 4 * oc);
}

TEST(WeakQuantizer, TinyWeightsAreClampedAndReported) {
  // Below 2^-14 binary16 has a coarse subnormal grid (2^-24 = 6e-8): fp16(Q) moves by more than
  // a scale of 1e-8, so pack's recomputed code leaves the range the quantizer used.
  const std::size_t oc = 8, ic = 64;
  std::vector<float> w(oc * ic);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.55e-7f * static_cast<float>(i % 16) / 15.0f;  // 15 s = 2.6 ulp -> fp16 3 ulp: code 17
  std::vector<weak::Clamp> clamped;
  const ref::WeakQuantized q = ref::weak_quantize(weak::Layout::qeft, w, oc, ic, {}, minmax(4, 0));
  const std::vector<std::uint8_t> codes = ref::weak_codes(q, &clamped);
  for (std::uint8_t c : codes) EXPECT_LT(c, 16);
  EXPECT_FALSE(clamped.empty());
  for (const weak::Clamp& c : clamped) EXPECT_TRUE(c.code < 0 || c.code > 15);
  std::vector<weak::Clamp> none;
  ref::weak_codes(ref::weak_quantize(weak::Layout::qeft, gaussian(5, oc * ic), oc, ic, {}, minmax(4, 0)), &none);
  EXPECT_TRUE(none.empty());
}

TEST(WeakQuantizer, BadInputIsRejected) {
  const std::vector<float> w = gaussian(1, 8 * 64);
  const auto q = [&](weak::Layout l, std::vector<float> v, std::size_t oc, std::size_t ic, std::vector<std::int32_t> weak, weak::QuantOptions o) {
    return ref::weak_quantize(l, v, oc, ic, weak, o);
  };
  EXPECT_THROW(q(weak::Layout::qeft, w, 8, 64, {3, 2}, minmax(4, 0)), lowbit::Error);   // not ascending
  EXPECT_THROW(q(weak::Layout::qeft, w, 8, 64, {64}, minmax(4, 0)), lowbit::Error);     // out of range
  EXPECT_THROW(q(weak::Layout::qeft, w, 8, 64, {}, minmax(3, 0)), lowbit::Error);       // QEFT is 4-bit
  EXPECT_THROW(q(weak::Layout::qeft, w, 4, 128, {}, minmax(4, 0)), lowbit::Error);      // OC % 8
  EXPECT_THROW(q(weak::Layout::qeft, w, 8, 64, {}, minmax(4, 48)), lowbit::Error);      // group
  EXPECT_THROW(q(weak::Layout::owq, w, 8, 64, {}, minmax(4, 32)), lowbit::Error);       // OWQ: per channel
  EXPECT_THROW(q(weak::Layout::owq, w, 8, 60, {}, minmax(4, 0)), lowbit::Error);        // size mismatch
  std::vector<float> bad = w;
  bad[7] = NAN;
  EXPECT_THROW(q(weak::Layout::owq, bad, 8, 64, {}, minmax(4, 0)), lowbit::Error);
  bad[7] = 70000.0f;  // beyond binary16
  EXPECT_THROW(q(weak::Layout::owq, bad, 8, 64, {}, minmax(4, 0)), lowbit::Error);
}

TEST(WeakMatvec, ReferenceIsTheLaneOrderSumOfTheGemvWeight) {
  for (std::size_t k : {0u, 1u, 37u, 64u}) {
    std::vector<std::int32_t> weak;
    for (std::size_t j = 0; j < k; ++j) weak.push_back(static_cast<std::int32_t>(3 * j));
    const ref::WeakQuantized q = ref::weak_quantize(weak::Layout::qeft, gaussian(k, 16 * 256), 16, 256, weak, minmax());
    const qeft::Packed p = ref::qeft_pack(q);
    const std::vector<float> w = ref::qeft_dequantize(p, qeft::Path::gemv);
    const std::vector<float> x = conformance::random_activations(k + 1, 256);
    std::vector<float> y(16);
    const qeft::Matrix m = p.view();
    ref::qeft_matvec_ref(&m, x.data(), y.data());
    for (std::size_t o = 0; o < 16; ++o) {
      float a[8] = {};
      for (std::size_t j = 0; j < 256; ++j) a[j % 8] = std::fma(w[o * 256 + j], x[j], a[j % 8]);
      const float want = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
      EXPECT_EQ(std::bit_cast<std::uint32_t>(y[o]), std::bit_cast<std::uint32_t>(want)) << k << " " << o;
    }
  }
}

TEST(WeakCheckpoint, RoundTripsBothLayouts) {
  namespace st = io::safetensors;
  std::vector<std::int32_t> weak{1, 9, 40};
  const std::vector<float> w = gaussian(11, 16 * 128);
  const qeft::Packed qp = ref::qeft_pack(ref::weak_quantize(weak::Layout::qeft, w, 16, 128, weak, minmax(4, 64)));
  const st::File qf = io::to_file(qp, "layers.0.q_proj");
  const st::File qr = st::read(st::write(qf.tensors, qf.metadata));
  const qeft::Packed qb = io::qeft_from_file(qr, "layers.0.q_proj");
  EXPECT_EQ(qb.qweight, qp.qweight);
  EXPECT_EQ(qb.scales, qp.scales);
  EXPECT_EQ(qb.scaled_zeros, qp.scaled_zeros);
  EXPECT_EQ(qb.oweight_interleaved, qp.oweight_interleaved);
  EXPECT_EQ(qb.group, 64u);
  EXPECT_THROW(io::qeft_from_file(qr, "layers.1.q_proj"), Error);
  try {
    io::owq_from_file(qr, "layers.0.q_proj");  // a QEFT file
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::data) << e.what();
  }

  for (int bits : {3, 4}) {
    const owq::Packed op = ref::owq_pack(ref::weak_quantize(weak::Layout::owq, w, 16, 128, weak, minmax(bits, 0)));
    st::File of = io::to_file(op);
    const owq::Packed ob = io::owq_from_file(st::read(st::write(of.tensors, of.metadata)));
    EXPECT_EQ(ob.qweight, op.qweight);
    EXPECT_EQ(ob.zeros, op.zeros);
    EXPECT_EQ(ob.oweight, op.oweight);
    EXPECT_EQ(ob.bits, bits);
    of.metadata.clear();  // a repo state dict: the bit width must be given
    EXPECT_THROW(io::owq_from_file(of), Error);
    EXPECT_EQ(io::owq_from_file(of, "", bits).qweight, op.qweight);
  }
}

}  // namespace
