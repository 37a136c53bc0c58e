// lowbit gen / verify for OCP MX (elements and blocks) and NF4/FP4 with double quantization: the
// reference's own outputs verify, corrupted outputs are reported with the right class, count and
// distance, and the expected outputs agree with independent paths (the FP8 reference and ml_dtypes'
// golden conversions for MX elements, the microxcaling model for MX blocks, bitsandbytes' golden
// double quantization for NF4).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "testing/temp_dir.hpp"
#include "lowbit/conformance/gse_oracle.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/io/npy.hpp"
#include "lowbit/reference/fp8.hpp"
#include "lowbit/reference/nf4.hpp"

namespace fs = std::filesystem;
namespace npy = lowbit::io::npy;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

std::string temp_dir(const std::string& name) { return fresh_temp_path("lowbit_golden_mxdq_" + name); }

template <class T> std::vector<T> arr(const std::string& dir, const std::string& name) {
  return io::npy::read(dir + "/" + name + ".npy").values<T>();
}

constexpr Rounding kMxRoundings[] = {Rounding::rna, Rounding::rne, Rounding::rtz, Rounding::sr};

}  // namespace

TEST(GoldenGenMx, ReferenceVerifiesForEveryFormatAndRounding) {
  for (const mx::Traits& t : mx::kFormats)
    for (Rounding r : kMxRoundings) {
      const std::string dir = temp_dir("all");
      MxGenOptions o;
      o.level = Level::boundary;
      o.format = t.format;
      o.rounding = r;
      o.level = Level::quick;
      o.random = 500;
      o.seed = 3;
      const GenSummary s = gen_mx(o, dir);
      const std::string what = fmt::format("{} {}", t.name, mx_rounding_name(r));
      EXPECT_EQ(s.counts.at("random"), 512u) << what;
      EXPECT_EQ(s.counts.at("tail"), 17u) << what;
      EXPECT_EQ(s.cases % mx::kBlock, 17u) << what;  // the last block is short
      const std::size_t blocks = (s.cases + mx::kBlock - 1) / mx::kBlock;
      const bool minifloat = t.format != mx::Format::int8;
      const std::size_t elements = minifloat ? arr<std::uint32_t>(dir, "elem_inputs").size() : 0;
      const std::size_t codes = minifloat ? 2 * (t.max_code + 1u) : 2 * t.max_code + 1u;
      if (minifloat) {
        EXPECT_EQ(arr<std::uint8_t>(dir, "elem_classes").size(), elements) << what;
      }
      const VerifyResult v = verify_golden(dir, dir, 8);
      EXPECT_TRUE(v.passed()) << what << verify_text(v);
      EXPECT_EQ(v.tests, 2 * s.cases + blocks + elements + codes) << what;
      EXPECT_EQ(verify_text(v), fmt::format("{} tests, no errors found\n", v.tests)) << what;
      EXPECT_EQ(v.format, t.name);
      EXPECT_EQ(v.rounding, mx_rounding_name(r));
      // Every scale byte the encoder writes (X = -127 .. 127 - emax) and the NaN scale.
      const auto sc = arr<std::uint8_t>(dir, "expected_scales");
      const std::set<std::uint8_t> seen(sc.begin(), sc.end());
      for (int b = 0; b <= 254 - t.emax; ++b) EXPECT_TRUE(seen.count(static_cast<std::uint8_t>(b))) << what << " scale " << b;
      EXPECT_TRUE(seen.count(mx::kE8m0Nan)) << what;
      if (t.emax > 0) {  // E <= 127: X <= 127 - emax
        EXPECT_FALSE(seen.count(static_cast<std::uint8_t>(255 - t.emax))) << what;
      }
      if (minifloat && r != Rounding::sr) {
        EXPECT_GT(v.classes.at("elements tie").tests, 2u * t.max_code - 2) << what;
      }
      EXPECT_THROW(verify_fp8(dir, dir, 8), std::runtime_error);
    }
  EXPECT_THROW(mx_block_cases(mx::Format::fp4_e2m1, Level::full, 1, 0), std::runtime_error);
  EXPECT_THROW(mx_element_cases(mx::Format::int8, Level::boundary, 1, 0), std::runtime_error);
}

TEST(GoldenGenMx, ElementsMatchTheFp8ReferenceAndMlDtypes) {
  // With the scale 2^0 an MX element is the saturating FP8 conversion (ml_dtypes-sat), and for
  // 'even' ml_dtypes' golden conversions of every element type; MX writes every zero as +0.
  const GoldenDir golden = GoldenDir::from_env();
  const std::pair<mx::Format, const char*> runs_of[] = {
      {mx::Format::fp8_e4m3, "fp8/mld_sat_f32_to_e4m3fn.runs"}, {mx::Format::fp8_e5m2, "fp8/mld_sat_f32_to_e5m2.runs"},
      {mx::Format::fp6_e3m2, "fp8/f32_to_e3m2fn.runs"},         {mx::Format::fp6_e2m3, "fp8/f32_to_e2m3fn.runs"},
      {mx::Format::fp4_e2m1, "fp8/f32_to_e2m1fn.runs"}};
  for (auto [f, runs_file] : runs_of)
    for (Rounding r : {Rounding::rne, Rounding::rna, Rounding::rtz}) {
      const mx::Traits& t = traits(f);
      const std::string dir = temp_dir("elem");
      MxGenOptions o;
      o.level = Level::boundary;
      o.format = f;
      o.rounding = r;
      o.level = Level::quick;
      o.random = 2000;
      gen_mx(o, dir);
      const auto in = arr<std::uint32_t>(dir, "elem_inputs");
      const auto want = arr<std::uint8_t>(dir, "elem_expected");
      const std::uint8_t mag = mx::sign_bit(t) - 1;
      auto same = [&](std::uint8_t mx, std::uint8_t other) { return mx == other || (mx == 0 && (other & mag) == 0); };
      std::size_t bad = 0;
      if (f == mx::Format::fp8_e4m3 || f == mx::Format::fp8_e5m2) {
        const fp8::Format ff = f == mx::Format::fp8_e4m3 ? fp8::Format::e4m3 : fp8::Format::e5m2;
        const fp8::EncodeParams p = fp8::encode_params(ff, *fp8::find_profile("ml_dtypes-sat"), FloatType::f32, r, 0);
        std::vector<float> x(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) x[i] = std::bit_cast<float>(in[i]);
        std::vector<std::uint8_t> fp8(in.size());
        ref::fp8_encode_ref<float>(x.size(), x.data(), fp8.data(), &p);
        for (std::size_t i = 0; i < in.size(); ++i) bad += !same(want[i], fp8[i]);
        EXPECT_EQ(bad, 0u) << t.name << " vs the FP8 reference, " << name(r);
      }
      if (r != Rounding::rne) continue;
      const auto runs = golden.runs(runs_file);
      bad = 0;
      for (std::size_t i = 0; i < in.size(); ++i) bad += !same(want[i], lookup(runs, in[i]));
      EXPECT_EQ(bad, 0u) << t.name << " vs " << runs_file;
    }
}

TEST(GoldenGenMx, BlocksMatchTheMicroxcalingModel) {
  for (const mx::Traits& t : mx::kFormats)
    for (Rounding r : {Rounding::rna, Rounding::rne, Rounding::rtz}) {
      const std::string dir = temp_dir("model");
      MxGenOptions o;
      o.level = Level::boundary;
      o.format = t.format;
      o.rounding = r;
      o.level = Level::quick;
      o.random = 3000;
      gen_mx(o, dir);
      const auto in = arr<std::uint32_t>(dir, "inputs");
      const auto dec = arr<std::uint32_t>(dir, "decode_expected");
      const auto sc = arr<std::uint8_t>(dir, "expected_scales");
      std::size_t bad = 0, nan_blocks = 0;
      for (std::size_t first = 0; first < in.size(); first += mx::kBlock) {
        const std::size_t end = std::min(in.size(), first + mx::kBlock);
        float amax = 0;
        bool special = false;
        for (std::size_t i = first; i < end; ++i) {
          const float x = std::bit_cast<float>(in[i]);
          special |= !std::isfinite(x);
          amax = std::max(amax, std::fabs(x));
        }
        if (special) {
          ++nan_blocks;
          bad += sc[first / mx::kBlock] != mx::kE8m0Nan;
          for (std::size_t i = first; i < end; ++i) bad += !std::isnan(std::bit_cast<float>(dec[i]));
          continue;
        }
        const int E = static_cast<int>((std::bit_cast<std::uint32_t>(amax) >> 23) & 0xFF) - 127;
        bad += sc[first / mx::kBlock] != std::max(E - t.emax, -127) + 127;
        for (std::size_t i = first; i < end; ++i)
          bad += dec[i] != std::bit_cast<std::uint32_t>(mx_oracle(std::bit_cast<float>(in[i]), amax, t, r));
      }
      EXPECT_EQ(bad, 0u) << t.name << " " << mx_rounding_name(r);
      EXPECT_EQ(nan_blocks, 6u);
    }
}

TEST(GoldenGenMx, CorruptedOutputsAreReported) {
  const std::string dir = temp_dir("corrupt"), actual = temp_dir("corrupt_actual");
  MxGenOptions o;
  o.level = Level::boundary;
  o.format = mx::Format::fp4_e2m1;
  gen_mx(o, dir);
  fs::create_directories(actual);
  auto codes = arr<std::uint8_t>(dir, "expected_codes");
  auto scales = arr<std::uint8_t>(dir, "expected_scales");
  auto elems = arr<std::uint8_t>(dir, "elem_expected");
  const auto cls = arr<std::uint8_t>(dir, "classes");
  const auto ecls = arr<std::uint8_t>(dir, "elem_classes");
  const auto ein = arr<std::uint32_t>(dir, "elem_inputs");
  std::size_t tie = 0, one = 0;
  while (cls[tie] != static_cast<std::uint8_t>(MxCaseClass::tie) || (codes[tie] & 7) == 0 || (codes[tie] & 7) == 7) ++tie;
  while (ecls[one] != static_cast<std::uint8_t>(Fp8CaseClass::exact) || ein[one] != 0x3F000000u) ++one;  // 0.5
  ASSERT_EQ(elems[one], 0x01);
  codes[tie] = static_cast<std::uint8_t>(codes[tie] + 1);  // the other neighbour of a tie: distance 1
  scales[0] = static_cast<std::uint8_t>(scales[0] + 1);    // one scale step
  elems[one] = 0x09;                                       // -0.5: distance 2 in FP4's sign-magnitude order
  io::npy::write(actual + "/expected_codes.npy", io::npy::make_array("|u1", codes));
  io::npy::write(actual + "/expected_scales.npy", io::npy::make_array("|u1", scales));
  io::npy::write(actual + "/elem_expected.npy", io::npy::make_array("|u1", elems));
  const VerifyResult r = verify_golden(dir, actual, 8);
  EXPECT_EQ(r.tests, codes.size() + scales.size() + elems.size());
  EXPECT_EQ(r.errors, 3u);
  EXPECT_EQ(r.classes.at("codes tie").errors, 1u);
  EXPECT_EQ(r.classes.at("scales exact").errors, 1u);
  EXPECT_EQ(r.classes.at("elements exact").errors, 1u);
  EXPECT_EQ(r.classes.at("codes near-tie").errors, 0u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 2}, {2, 1}}));
  EXPECT_EQ(r.distance_unit, "codes: codes; scales: scale steps; elements: codes");
  const std::string text = verify_text(r);
  EXPECT_NE(text.find("  elements exact [" + std::to_string(one) + "] input 0x3f000000 (0.5) => got 0x09 (9) expected 0x01 (1), distance 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("{} tests, 3 errors found", r.tests)), std::string::npos) << text;
  EXPECT_NE(text.find("Errors found in mxfp4-e2m1 (rounding nearest)"), std::string::npos) << text;

  // MXINT8: two's-complement codes, |i1; a sign error of code 1 is distance 2.
  const std::string idir = temp_dir("int8"), iactual = temp_dir("int8_actual.npy");
  o.format = mx::Format::int8;
  gen_mx(o, idir);
  auto icodes = arr<std::int8_t>(idir, "expected_codes");
  std::size_t k = 0;
  while (icodes[k] != 1) ++k;
  icodes[k] = -1;
  io::npy::write(iactual, io::npy::make_array("|i1", icodes));
  const VerifyResult ir = verify_golden(idir, iactual, 8);  // one |i1 file of n values: the codes
  EXPECT_EQ(ir.errors, 1u);
  EXPECT_EQ(ir.distance, (std::map<std::uint64_t, std::uint64_t>{{2, 1}}));
}

TEST(GoldenGenNf4Dq, ReferenceVerifiesAndCorruptionIsReported) {
  for (nf4::Table tab : {nf4::Table::nf4, nf4::Table::fp4})
    for (const nf4::Profile& p : nf4::kProfiles)
      for (int block : {64, 256}) {
        const std::string dir = temp_dir("dq");
        Nf4GenOptions o;
        o.level = Level::boundary;
        o.table = tab;
        o.profile = std::string(p.name);
        o.block = block;
        o.level = Level::quick;
        o.random = 20000;  // block 64: more than 256 blocks, the second nested block short
        o.double_quant = true;
        const GenSummary s = gen_nf4(o, dir);
        const std::string what = fmt::format("{} {} {}", name(tab), p.name, block);
        const std::size_t blocks = nf4::blocks(s.cases, block), nested = nf4::blocks(blocks, nf4::kNestedBlock);
        EXPECT_EQ(s.counts.at("special"), 3u * block) << what;  // no NaN/Inf blocks with DQ
        const VerifyResult v = verify_golden(dir, dir, 8);
        EXPECT_TRUE(v.passed()) << what << verify_text(v);
        EXPECT_EQ(v.tests, 3 * s.cases + (s.cases + 1) / 2 + 3 * blocks + nested + 1) << what;
        const GoldenSet g(dir);
        EXPECT_EQ(g.manifest()["double_quant"], true);
        EXPECT_EQ(g.manifest()["nested_block"], nf4::kNestedBlock);
        EXPECT_EQ(v.classes.at("nested_absmax tail").tests, 1u) << what;
        EXPECT_EQ(v.classes.count("nested_absmax full"), block == 64 ? 1u : 0u) << what;
        const auto off = arr<std::uint32_t>(dir, "expected_offset");
        ASSERT_EQ(off.size(), 1u);
        EXPECT_TRUE(std::isfinite(std::bit_cast<float>(off[0]))) << what;
      }
  const std::string dir = temp_dir("dq_c"), actual = temp_dir("dq_c_actual");
  Nf4GenOptions o;
  o.level = Level::boundary;
  o.double_quant = true;
  gen_nf4(o, dir);
  fs::create_directories(actual);
  auto q = arr<std::uint8_t>(dir, "expected_qabsmax");
  auto off = arr<std::uint32_t>(dir, "expected_offset");
  auto deq = arr<std::uint32_t>(dir, "dq_decode_expected");
  const auto cls = arr<std::uint8_t>(dir, "classes");
  const auto acls = arr<std::uint8_t>(dir, "absmax_classes");
  ASSERT_LT(q[1], 255);
  q[1] = static_cast<std::uint8_t>(q[1] + 1);
  off[0] += 1;
  std::size_t e = 0;
  while (cls[e] != static_cast<std::uint8_t>(Nf4CaseClass::tail) || (deq[e] & 0x7FFFFFFFu) == 0) ++e;
  deq[e] += 2;
  io::npy::write(actual + "/expected_qabsmax.npy", io::npy::make_array("|u1", q));
  io::npy::write(actual + "/expected_offset.npy", io::npy::make_array("<u4", off));
  io::npy::write(actual + "/dq_decode_expected.npy", io::npy::make_array("<u4", deq));
  const VerifyResult r = verify_golden(dir, actual, 8);
  EXPECT_EQ(r.tests, q.size() + 1 + deq.size());
  EXPECT_EQ(r.errors, 3u);
  EXPECT_EQ(r.classes.at(fmt::format("qabsmax {}", kNf4CaseClassNames[acls[1]])).errors, 1u);
  EXPECT_EQ(r.classes.at("offset mean").errors, 1u);
  EXPECT_EQ(r.classes.at("dq_decode tail").errors, 1u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 2}, {2, 1}}));
  EXPECT_EQ(r.format, "nf4");
}

TEST(GoldenGenNf4Dq, MatchesBitsandbytesGolden) {
  // The generator's expected arrays for bitsandbytes' own inputs are bitsandbytes' outputs.
  const Nf4Manifest m(GoldenDir::from_env());
  std::size_t compared = 0;
  for (auto [sem, profile] : kNf4GoldenSemantics)
    for (const std::string& c : m.cases()) {
      if (!m.has(c, sem, "dq.qabsmax.u8") || !m.has(c, sem, "nf4.u8")) continue;
      Fp8Cases cases;
      cases.inputs = m.f32(c, "*", "in.f32");
      cases.classes.assign(cases.inputs.size(), static_cast<std::uint8_t>(Nf4CaseClass::random));
      Nf4GenOptions o;
      o.level = Level::boundary;
      o.profile = profile;
      o.double_quant = true;
      const std::string dir = temp_dir("bnb");
      gen_nf4(o, cases, dir);
      const std::string what = fmt::format("{} {}", c, sem);
      EXPECT_TRUE(verify_golden(dir, dir, 8).passed()) << what;
      EXPECT_EQ(arr<std::uint8_t>(dir, "expected_packed"), m.u8(c, sem, "nf4.u8")) << what;
      EXPECT_EQ(arr<std::uint8_t>(dir, "expected_qabsmax"), m.u8(c, sem, "dq.qabsmax.u8")) << what;
      EXPECT_EQ(arr<std::uint32_t>(dir, "dq_map"), m.f32("-", "-", "dynamic_map.f32")) << what;
      const std::pair<const char*, const char*> f32s[] = {{"expected_absmax", "absmax.f32"},
                                                          {"expected_nested_absmax", "dq.nested_absmax.f32"},
                                                          {"expected_offset", "dq.offset.f32"},
                                                          {"expected_dq_absmax", "dq.absmax.f32"},
                                                          {"dq_decode_expected", "dq.deq.f32"}};
      for (auto [mine, theirs] : f32s)
        if (m.has(c, sem, theirs)) {
          EXPECT_EQ(arr<std::uint32_t>(dir, mine), m.f32(c, sem, theirs)) << what << " " << mine;
          ++compared;
        }
    }
  EXPECT_GE(compared, 40u);
}
