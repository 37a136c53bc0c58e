// lowbit gen qeft|owq and gse-gemm (src/golden_gen_weak.cpp, golden_gen_gemm.cpp) and the verifier's
// tolerance mode: each set verifies against itself, corruptions are counted where they are, the
// packing path equals the repos' golden buffers, and the fp32 bound accepts any summation order.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "lowbit/conformance/golden_gen.hpp"
#include "testing/temp_dir.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/reference/weak.hpp"

namespace fs = std::filesystem;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

std::string temp_dir(const std::string& name) { return fresh_temp_path("lowbit_gen_packed_" + name); }

// Writes `values` as the actual array `name` into a fresh directory and verifies it.
template <class T>
VerifyResult verify_one(const std::string& golden, const std::string& name, const std::vector<T>& values, std::string_view descr,
                        bool tolerance = false) {
  const std::string dir = temp_dir("actual_" + name);
  fs::create_directories(dir);
  io::npy::write(dir + "/" + name + ".npy", io::npy::make_array(descr, values));
  return verify_golden(golden, dir, VerifyOptions{20, tolerance});
}

// f32 outputs as the sets hold them: bit patterns.
VerifyResult verify_f32(const std::string& golden, const std::vector<float>& v, bool tolerance) {
  std::vector<std::uint32_t> bits(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) bits[i] = std::bit_cast<std::uint32_t>(v[i]);
  return verify_one(golden, "expected", bits, "<u4", tolerance);
}

WeakGenOptions weak_options(weak::Layout l, int bits, weak::Tuning t) {
  WeakGenOptions o;
  o.level = Level::boundary;
  o.layout = l;
  o.quant.bits = bits;
  o.quant.group = l == weak::Layout::qeft ? 128 : 0;
  o.quant.tuning = t;
  o.quant.grid = weak::default_grid(l, o.quant.group);
  return o;
}

std::vector<std::uint16_t> read_u16(const std::string& f) { return io::npy::read(f).values<std::uint16_t>(); }
bool contains(const std::vector<std::uint16_t>& v, std::uint16_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST(GoldenGenWeak, EverySetVerifiesAgainstItself) {
  for (auto [l, bits, tuning, level] :
       {std::tuple{weak::Layout::qeft, 4, weak::Tuning::minmax, Level::boundary}, {weak::Layout::qeft, 4, weak::Tuning::mse, Level::quick},
        {weak::Layout::owq, 3, weak::Tuning::minmax, Level::quick}, {weak::Layout::owq, 4, weak::Tuning::mse, Level::boundary}}) {
    WeakGenOptions o = weak_options(l, bits, tuning);
    o.level = level;
    o.random = 5000;
    const std::string dir = temp_dir("self");
    gen_weak(o, dir);
    const VerifyResult r = verify_golden(dir, dir, 5);
    EXPECT_TRUE(r.passed()) << name(l) << bits << verify_text(r);
    std::uint64_t weights = 0;
    for (const WeakGenLayer& layer : weak_gen_layers(o)) weights += layer.oc * layer.ic;
    // codes and every deq path cover each weight once, plus the packed buffers.
    EXPECT_GT(r.tests, (l == weak::Layout::qeft ? 3 : 4) * weights);
    EXPECT_EQ(r.kind, "weak");
    EXPECT_EQ(r.format, std::string(name(l)));
  }
}

TEST(GoldenGenWeak, StructuredCasesReachTheLayoutsEdges) {
  WeakGenOptions o = weak_options(weak::Layout::qeft, 4, weak::Tuning::minmax);
  const std::vector<WeakGenLayer> layers = weak_gen_layers(o);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_NE((o.cols - layers[0].weak.size()) % 128, 0u);  // the edge layer's last group is partial
  EXPECT_EQ((o.cols - layers[1].weak.size()) % 128, 1u);  // a last group of one column
  EXPECT_TRUE(layers[2].weak.empty());
  EXPECT_EQ(layers[3].weak.size(), o.cols - 1);           // every group but the first weak-only
  const std::string dir = temp_dir("edges");
  gen_weak(o, dir);
  const auto zeros = read_u16(dir + "/expected_scaled_zeros.npy"), ow = read_u16(dir + "/expected_oweight.npy");
  EXPECT_TRUE(contains(zeros, 0x0000));  // minmax, all-positive group: zero point -0.0 -> +0
  for (std::uint16_t special : {0x7BFF, 0xFBFF, 0x0001, 0x8000, 0x0400}) EXPECT_TRUE(contains(ow, special)) << special;
  const auto codes = io::npy::read(dir + "/expected_codes.npy").values<std::uint8_t>();
  const auto cls = io::npy::read(dir + "/codes_classes.npy").values<std::uint8_t>();
  bool low = false, high = false;
  for (std::size_t i = 0; i < codes.size(); ++i)
    if (cls[i] == static_cast<std::uint8_t>(WeakCaseClass::code_extremes)) low |= codes[i] == 0, high |= codes[i] == 15;
  EXPECT_TRUE(low && high);
  // The fp16-special row's tiny weights are codes the reference packer would write out of range.
  std::vector<weak::Clamp> clamped;
  ref::weak_codes(ref::weak_quantize(weak::Layout::qeft, layers[0].w, layers[0].oc, layers[0].ic, layers[0].weak, o.quant), &clamped);
  EXPECT_FALSE(clamped.empty());
  // mse's zero point is +0: scaled_zeros -0.
  o.quant.tuning = weak::Tuning::mse;
  gen_weak(o, dir);
  EXPECT_TRUE(contains(read_u16(dir + "/expected_scaled_zeros.npy"), 0x8000));
  o.cols = 200;
  EXPECT_THROW(weak_gen_layers(o), std::runtime_error);
}

TEST(GoldenGenWeak, CorruptionsAreReportedWithClassAndDistance) {
  const WeakGenOptions o = weak_options(weak::Layout::qeft, 4, weak::Tuning::minmax);
  const std::string dir = temp_dir("corrupt");
  gen_weak(o, dir);
  auto q = io::npy::read(dir + "/expected_qweight.npy").values<std::int16_t>();
  std::size_t i = 0;
  while ((q[i] & 0xF) == 0xF || (static_cast<std::uint16_t>(q[i]) & 0x8000)) ++i;  // a low nibble that can grow
  q[i] = static_cast<std::int16_t>(q[i] + 1);
  VerifyResult r = verify_one(dir, "expected_qweight", q, "<i2");
  EXPECT_EQ(r.errors, 1u);
  const std::uint8_t k = io::npy::read(dir + "/qweight_classes.npy").values<std::uint8_t>().at(i);
  EXPECT_EQ(r.classes.at("qweight " + std::string(kWeakCaseClassNames[k])).errors, 1u);
  EXPECT_EQ(r.distance.at(1), 1u);
  const auto inputs = io::npy::read(dir + "/qweight_inputs.npy").values<std::uint32_t>();
  ASSERT_EQ(r.examples.size(), 1u);
  EXPECT_EQ(r.examples[0].index, i);
  EXPECT_EQ(r.examples[0].input, inputs[i]);

  auto s = read_u16(dir + "/expected_scales.npy");
  s.back() = static_cast<std::uint16_t>(s.back() + 3);  // 3 f16 ulps
  r = verify_one(dir, "expected_scales", s, "<u2");
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.distance.at(3), 1u);
  auto d = io::npy::read(dir + "/expected_deq_gemv.npy").values<std::uint32_t>();
  for (std::size_t j = 0; j < 40; ++j) d[j] ^= 0x80000000u;  // row 0 is all-zero groups: +-0 and dequantized zero codes
  r = verify_one(dir, "expected_deq_gemv", d, "<u4");
  EXPECT_EQ(r.errors, 40u);
  EXPECT_EQ(r.classes.at("deq_gemv zero-group").errors, 40u);
}

// The generator's packing path on the repos' golden weights gives the repos' golden buffers.
TEST(GoldenGenWeak, PackingPathEqualsRepoGoldenBuffers) {
  std::size_t compared = 0;
  for (weak::Layout l : {weak::Layout::qeft, weak::Layout::owq}) {
    const WeakGolden g(GoldenDir::from_env(), l);
    for (const WeakGoldenCase& c : g.cases()) {
      WeakGenLayer layer{c.oc, c.ic, g.read<float>(c.name, "w"), {}, std::vector<std::uint8_t>(c.oc), WeakCaseClass::random};
      if (c.k) layer.weak = g.read<std::int32_t>(c.name, "weak_idx");
      for (const WeakGenBuffer& b : weak_gen_buffers(l, c.options, layer)) {
        const std::string q = b.name == "deq_gemv" || b.name == "deq_fp16" ? "deq" : b.name == "deq_fp32" ? "deq_fp32k" : b.name;
        if (!g.has(c.name, q)) {
          EXPECT_TRUE(b.expected.bytes.empty()) << c.name << " " << b.name;  // k = 0: no weak buffers
          continue;
        }
        const std::vector<std::uint8_t> want = g.read<std::uint8_t>(c.name, q);
        EXPECT_EQ(b.expected.bytes, want) << c.name << " " << b.name;
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 60u);
}

TEST(GoldenGenGemm, EverySetVerifiesAgainstItself) {
  gse::Format e8;
  e8.exp_bits = 8;
  e8.exp_bias = 127;
  gse::Format int4;
  int4.bits = 4;
  int4.group = 16;
  int4.exp_offset = -20;
  for (const gse::Format& f : {gse::Format{}, e8, int4})
    for (gse::Accumulate acc : {gse::Accumulate::exact, gse::Accumulate::fp32}) {
      GseGemmGenOptions o;
      o.level = Level::boundary;
      o.format = f;
      o.accumulate = acc;
      o.level = Level::quick;
      o.random = 500;
      const std::string dir = temp_dir("gemm_self");
      gen_gse_gemm(o, dir);
      VerifyResult r = verify_golden(dir, dir + "/expected.npy", 5);
      EXPECT_TRUE(r.passed()) << verify_text(r);
      if (acc == gse::Accumulate::fp32) {
        r = verify_golden(dir, dir, VerifyOptions{5, true});
        EXPECT_TRUE(r.passed()) << verify_text(r);
        ASSERT_EQ(r.tolerance.size(), 1u);
        EXPECT_EQ(r.tolerance[0].inexact, 0u);
      } else {
        EXPECT_THROW(verify_golden(dir, dir, VerifyOptions{5, true}), std::runtime_error);  // no bounds to use
      }
    }
}

TEST(GoldenGenGemm, StructuredCases) {
  GseGemmGenOptions o;
  o.level = Level::boundary;
  o.format.exp_bits = 8;
  o.format.exp_bias = 127;
  const std::vector<GseGemmProblem> p = gse_gemm_gen_cases(o);
  const std::size_t N = 32;
  ASSERT_EQ(p.size(), 2 * N + 1 + 5);
  for (std::size_t k = 1; k <= 2 * N + 1; ++k) EXPECT_EQ(p[k - 1].k, k);  // every tail length, once and twice
  const std::string dir = temp_dir("gemm_cases");
  gen_gse_gemm(o, dir);
  const auto e = io::npy::read(dir + "/expected.npy").values<float>(), other = io::npy::read(dir + "/other.npy").values<float>();
  const auto cls = io::npy::read(dir + "/classes.npy").values<std::uint8_t>();
  std::map<std::uint8_t, int> nan, inf, zero, differ;
  for (std::size_t i = 0; i < e.size(); ++i) {
    nan[cls[i]] += std::isnan(e[i]);
    inf[cls[i]] += std::isinf(e[i]);
    zero[cls[i]] += e[i] == 0;
    differ[cls[i]] += !(std::isnan(e[i]) && std::isnan(other[i])) && std::bit_cast<std::uint32_t>(e[i]) != std::bit_cast<std::uint32_t>(other[i]);
  }
  using K = GseGemmCaseClass;
  const auto k = [](K c) { return static_cast<std::uint8_t>(c); };
  EXPECT_GT(nan[k(K::nan)], 0);
  EXPECT_GT(inf[k(K::exp_extreme)], 0);   // 2^127 x 2^127 overflows
  EXPECT_GT(zero[k(K::exp_extreme)], 0);  // 2^-133 x 2^-133 underflows
  EXPECT_GT(differ[k(K::cancellation)], 0);
  EXPECT_GT(zero[k(K::zero_group)], 0);
  EXPECT_EQ(nan[k(K::zero_group)] + nan[k(K::tail)] + nan[k(K::cancellation)], 0);
  // With a 5-bit field nothing overflows and the largest bound is a sum of maximal mantissas.
  o.format = gse::Format{};
  o.accumulate = gse::Accumulate::fp32;
  gen_gse_gemm(o, dir);
  const auto bound = io::npy::read(dir + "/tolerance.npy").values<float>();
  const auto cls5 = io::npy::read(dir + "/classes.npy").values<std::uint8_t>();
  const std::size_t worst = static_cast<std::size_t>(std::max_element(bound.begin(), bound.end()) - bound.begin());
  EXPECT_TRUE(std::isfinite(bound[worst]));
  EXPECT_EQ(cls5[worst], k(K::max_mantissa));
}

namespace {

// C in reverse k order, one f32 addition per product: another vendor's legitimate fp32 result.
std::vector<float> reversed_fp32(const GseGemmProblem& p, const gse::Format& f) {
  const std::size_t N = static_cast<std::size_t>(f.group), groups = f.groups(p.k);
  const int unit = 2 * (f.exp_offset - f.exp_bias - (f.bits - 2));
  std::vector<float> c(p.m * p.n);
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j) {
      float acc = 0;
      bool nan = false;
      for (std::size_t t = p.k; t-- > 0;) {
        const unsigned ea = p.a_exps[i * groups + t / N], eb = p.b_exps[j * groups + t / N];
        nan |= ea == f.nan_field() || eb == f.nan_field();
        acc += std::ldexp(static_cast<float>(p.a[i * p.k + t] * p.b[j * p.k + t]), unit + static_cast<int>(ea + eb));
      }
      c[i * p.n + j] = nan ? std::numeric_limits<float>::quiet_NaN() : acc;
    }
  return c;
}

}  // namespace

TEST(GoldenGenGemm, ToleranceAcceptsAnyOrderAndRejectsMore) {
  GseGemmGenOptions o;
  o.level = Level::boundary;
  o.accumulate = gse::Accumulate::fp32;
  o.level = Level::quick;
  o.random = 2000;
  const std::string dir = temp_dir("gemm_tol");
  gen_gse_gemm(o, dir);
  std::vector<float> rev;
  for (const GseGemmProblem& p : gse_gemm_gen_cases(o))
    for (float x : reversed_fp32(p, o.format)) rev.push_back(x);
  const VerifyResult exact = verify_f32(dir, rev, false);
  EXPECT_GT(exact.errors, 0u);  // bit-exact comparison sees the other order
  const VerifyResult tol = verify_f32(dir, rev, true);
  EXPECT_TRUE(tol.passed()) << verify_text(tol);
  ASSERT_EQ(tol.tolerance.size(), 1u);
  EXPECT_EQ(tol.tolerance[0].inexact, exact.errors);
  EXPECT_GT(tol.tolerance[0].worst_ratio, 0);
  EXPECT_LE(tol.tolerance[0].worst_ratio, 1);
  EXPECT_GT(tol.tolerance[0].max_bound, 0);
  EXPECT_NE(verify_text(tol).find("worst |got - expected| / bound"), std::string::npos);
  // The exact result lies within the bound too (a vendor that accumulates exactly).
  EXPECT_TRUE(verify_f32(dir, io::npy::read(dir + "/other.npy").values<float>(), true).passed());

  // One output just beyond its bound, one NaN where a number is expected: two errors.
  std::vector<float> want = io::npy::read(dir + "/expected.npy").values<float>();
  const std::vector<float> bound = io::npy::read(dir + "/tolerance.npy").values<float>();
  std::size_t i = 0;
  while (!(std::isfinite(want[i]) && bound[i] > 0 && want[i] != 0)) ++i;
  const auto beyond = [&](float v) { return double(v) - double(want[i]) > double(bound[i]); };
  float x = want[i] + bound[i];
  while (beyond(x)) x = std::nextafter(x, -std::numeric_limits<float>::infinity());
  while (!beyond(x)) x = std::nextafter(x, std::numeric_limits<float>::infinity());  // the first float beyond
  want[i] = x;
  std::size_t j = i + 1;
  while (!std::isfinite(want[j])) ++j;
  want[j] = std::numeric_limits<float>::quiet_NaN();
  const VerifyResult bad = verify_f32(dir, want, true);
  EXPECT_EQ(bad.errors, 2u);
  ASSERT_FALSE(bad.examples.empty());
  EXPECT_NE(bad.examples[0].note.find("> bound"), std::string::npos) << bad.examples[0].note;
  EXPECT_GT(bad.tolerance.at(0).worst_ratio, 1);
  want[j] = io::npy::read(dir + "/expected.npy").values<float>()[j];
  want[i] = std::nextafter(x, -std::numeric_limits<float>::infinity());  // the last float within the bound passes
  EXPECT_TRUE(verify_f32(dir, want, true).passed());
}

TEST(GoldenGenGemm, BoundFollowsTheFormula) {
  GseGemmProblem p{1, 1, 3, {1, -2, 3}, {4, 5, 6}, {15}, {15}, GseGemmCaseClass::tail};
  gse::Format f;  // bits 8: unit 2^-6 per operand
  // S = (4 + 10 + 18) 2^-12, gamma_2 = 2u / (1 - 2u).
  const double u = 0x1p-24, s = 32 * 0x1p-12, beta = 2 * (2 * u / (1 - 2 * u)) * s * (1 + 0x1p-40) + 3 * 0x1p-148;
  const float b = gse_gemm_fp32_bound(p, f)[0];
  EXPECT_GE(double(b), beta);
  EXPECT_LT(double(std::nextafter(b, 0.0f)), beta);
  p.a_exps = {31};  // a NaN group: the bound is unused
  EXPECT_EQ(gse_gemm_fp32_bound(p, f)[0], 0.0f);
}
