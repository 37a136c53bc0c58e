// lowbit gen / verify (TestFloat's testfloat_gen / testfloat_ver) for FP8: the reference's own
// outputs verify, corrupted outputs are reported with the right counts, classes and distances, and
// the manifest's SHA-256 match the files.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/golden_gen.hpp"
#include "testing/temp_dir.hpp"
#include "lowbit/io/npy.hpp"
#include "lowbit/conformance/sha256.hpp"

namespace fs = std::filesystem;
namespace npy = lowbit::io::npy;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

std::string temp_dir(const std::string& name) { return fresh_temp_path("lowbit_golden_gen_" + name); }

nlohmann::json manifest(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "manifest.json");
  return nlohmann::json::parse(in);
}

std::uint8_t class_index(std::string_view name) {
  for (std::size_t k = 0; k < std::size(kFp8CaseClassNames); ++k)
    if (kFp8CaseClassNames[k] == name) return static_cast<std::uint8_t>(k);
  return 255;
}

}  // namespace

TEST(GoldenGen, ReferenceVerifiesForEveryFormatProfileRounding) {
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& p : fp8::kProfiles)
      for (Rounding r : kRoundings) {
        if (!fp8::applies(p, f)) continue;
        const std::string dir = temp_dir("all");
        Fp8GenOptions o;
        o.level = Level::boundary;
        o.format = f;
        o.profile = std::string(p.name);
        o.rounding = r;
        o.seed = 7;
        const GenSummary s = gen_fp8(o, dir);
        const std::string what = fmt::format("{} {} {}", traits(f).name, p.name, name(r));
        EXPECT_EQ(s.counts.at("tie"), 2u * traits(f).max_finite()) << what;  // both signs
        EXPECT_EQ(s.counts.at("random"), 0u) << what;
        const VerifyResult file = verify_fp8(dir, (fs::path(dir) / "expected.npy").string(), 8);
        EXPECT_TRUE(file.passed()) << what;
        EXPECT_EQ(file.tests, s.cases) << what;
        const VerifyResult whole = verify_fp8(dir, dir, 8);  // encode and decode
        EXPECT_TRUE(whole.passed()) << what;
        EXPECT_EQ(whole.tests, s.cases + traits(f).codes()) << what;
        EXPECT_EQ(verify_text(whole), fmt::format("{} tests, no errors found\n", s.cases + traits(f).codes()));
      }
}

TEST(GoldenGen, QuickLevelAddsSeededRandomCases) {
  const std::string a = temp_dir("quick_a"), b = temp_dir("quick_b");
  Fp8GenOptions o;
  o.format = fp8::Format::e5m2;
  o.level = Level::quick;
  o.random = 1000;
  const GenSummary s = gen_fp8(o, a);
  EXPECT_EQ(s.counts.at("random"), 1000u);
  EXPECT_EQ(gen_fp8(o, b).sha256, s.sha256);  // deterministic
  o.seed = 2;
  EXPECT_NE(gen_fp8(o, b).sha256.at("inputs.npy"), s.sha256.at("inputs.npy"));
  EXPECT_TRUE(verify_fp8(a, a, 8).passed());
  EXPECT_THROW(fp8_gen_cases(fp8::Format::e4m3, Level::full, 1, 0), std::runtime_error);
}

TEST(GoldenGen, TiesAndNearTiesAreWhereTheyShouldBe) {
  // ml_dtypes, rne: each tie goes to the even code, one ulp below to the lower, one above to the upper.
  const std::string dir = temp_dir("ties");
  Fp8GenOptions o;
  o.level = Level::boundary;
  gen_fp8(o, dir);
  const auto in = io::npy::read(dir + "/inputs.npy").values<std::uint32_t>();
  const auto want = io::npy::read(dir + "/expected.npy").values<std::uint8_t>();
  const auto cls = io::npy::read(dir + "/classes.npy").values<std::uint8_t>();
  ASSERT_EQ(in.size(), want.size());
  std::size_t ties = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (cls[i] != class_index("tie") || (in[i] >> 31)) continue;
    ++ties;
    EXPECT_EQ(want[i] % 2, 0) << std::hex << in[i];
    ASSERT_EQ(cls[i + 2], class_index("near-tie"));  // layout: tie +, tie -, below +, below -, above +, above -
    EXPECT_EQ(in[i + 2], in[i] - 1);
    EXPECT_EQ(in[i + 4], in[i] + 1);
    EXPECT_EQ(want[i + 4], want[i + 2] + 1) << std::hex << in[i];
  }
  EXPECT_EQ(ties, 126u);  // between the 127 finite e4m3 magnitudes
}

TEST(GoldenGen, ManifestDescribesTheFiles) {
  const std::string dir = temp_dir("manifest");
  Fp8GenOptions o;
  o.level = Level::boundary;
  o.format = fp8::Format::e4m3;
  o.profile = "cuda-satfinite";
  o.rounding = Rounding::sr;
  o.seed = 42;
  const GenSummary s = gen_fp8(o, dir);
  const nlohmann::json m = manifest(dir);
  EXPECT_EQ(m["format"], "e4m3");
  EXPECT_EQ(m["profile"], "cuda-satfinite");
  EXPECT_EQ(m["rounding"], "sr");
  EXPECT_EQ(m["seed"], 42);
  EXPECT_EQ(m["level"], "boundary");
  EXPECT_EQ(m["lowbit_version"], "0.1.0");
  EXPECT_EQ(m["tests"][0]["count"], s.cases);
  EXPECT_EQ(m["tests"][0]["counts"]["tie"], s.counts.at("tie"));
  ASSERT_EQ(m["files"].size(), 6u);
  for (auto& [name, f] : m["files"].items()) {
    const auto bytes = io::npy::read_bytes(dir + "/" + name);
    EXPECT_EQ(f["sha256"], sha256_hex(bytes)) << name;
    EXPECT_EQ(f["bytes"], bytes.size()) << name;
    EXPECT_EQ(f["sha256"], s.sha256.at(name)) << name;
  }
  // A golden file that no longer matches its manifest is refused.
  auto cls = io::npy::read(dir + "/classes.npy");
  cls.bytes[0] ^= 1;
  io::npy::write(dir + "/classes.npy", cls);
  EXPECT_THROW(verify_fp8(dir, dir, 8), std::runtime_error);
}

TEST(GoldenGen, CorruptedOutputsAreReported) {
  const std::string dir = temp_dir("corrupt"), actual = temp_dir("corrupt_actual.npy");
  Fp8GenOptions o;
  o.level = Level::boundary;
  gen_fp8(o, dir);
  const auto in = io::npy::read(dir + "/inputs.npy").values<std::uint32_t>();
  auto codes = io::npy::read(dir + "/expected.npy").values<std::uint8_t>();
  const auto cls = io::npy::read(dir + "/classes.npy").values<std::uint8_t>();
  std::size_t exact = 0, tie = 0;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (cls[i] == class_index("exact") && codes[i] == 0x40) exact = i;
    else if (cls[i] == class_index("tie") && codes[i] == 0x44 && !tie) tie = i;
  ASSERT_TRUE(exact && tie);
  codes[exact] = 0x41;  // one flipped code: distance 1
  codes[tie] = 0x43;    // the wrong neighbour of a tie: distance 1
  io::npy::write(actual, io::npy::make_array("|u1", codes));
  const VerifyResult r = verify_fp8(dir, actual, 8);
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.errors, 2u);
  EXPECT_EQ(r.tests, in.size());
  EXPECT_EQ(r.classes.at("encode exact").errors, 1u);
  EXPECT_EQ(r.classes.at("encode tie").errors, 1u);
  EXPECT_EQ(r.classes.at("encode near-tie").errors, 0u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 2}}));
  ASSERT_EQ(r.examples.size(), 2u);  // one per class, each with its index, operands and distance
  for (const Mismatch& m : r.examples) {
    const bool is_tie = m.cls == "tie";
    EXPECT_EQ(m.test, "encode");
    EXPECT_EQ(m.index, is_tie ? tie : exact);
    EXPECT_EQ(m.input, in[m.index]);
    EXPECT_EQ(m.got, is_tie ? 0x43u : 0x41u);
    EXPECT_EQ(m.expected, is_tie ? 0x44u : 0x40u);
    EXPECT_EQ(m.distance, 1u);
  }
  const std::string text = verify_text(r);  // hex and decimal: the input as f32, the codes as integers
  const float tie_input = std::bit_cast<float>(in[tie]);
  EXPECT_NE(text.find(fmt::format("  encode tie [{}] input 0x{:08x} ({}) => got 0x43 (67) expected 0x44 (68), distance 1", tie,
                                  in[tie], tie_input)),
            std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("encode exact [{}] input 0x{:08x}", exact, in[exact])), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("{} tests, 2 errors found", in.size())), std::string::npos) << text;
  const auto j = nlohmann::json::parse(verify_json(r));
  EXPECT_EQ(j["errors"], 2);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["classes"]["encode tie"]["errors"], 1);
  ASSERT_EQ(j["mismatches"].size(), 2u);  // objects, not pre-formatted strings
  for (const auto& m : j["mismatches"]) {
    EXPECT_EQ(m["test"], "encode");
    EXPECT_TRUE(m["index"] == tie || m["index"] == exact);
    EXPECT_EQ(m["distance"], 1);
    EXPECT_TRUE(m["class"] == "tie" || m["class"] == "exact");
    EXPECT_EQ(m["input"]["hex"], fmt::format("0x{:08x}", in[m["index"].get<std::size_t>()]));
    EXPECT_EQ(m["got"]["value"], m["class"] == "tie" ? "67" : "65");
    EXPECT_EQ(m["expected"]["hex"], m["class"] == "tie" ? "0x44" : "0x40");
  }

  // A sign error is far in the sign-magnitude order; --errors 1 lists one per class.
  codes[exact] = 0xC0;
  for (std::size_t i = 0; i < in.size(); ++i)  // a second tie error: still one example of the class
    if (i != tie && cls[i] == class_index("tie") && codes[i] == 0x44) {
      codes[i] = 0x45;
      break;
    }
  io::npy::write(actual, io::npy::make_array("|u1", codes));
  const VerifyResult s = verify_fp8(dir, actual, 1);
  EXPECT_EQ(s.examples.size(), 2u);
  EXPECT_EQ(s.classes.at("encode tie").errors, 2u);
  EXPECT_EQ(s.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 2}, {128, 1}}));  // 0x40 vs -0x40: 128

  // Wrong sizes and dtypes are errors, not mismatches.
  codes.pop_back();
  io::npy::write(actual, io::npy::make_array("|u1", codes));
  EXPECT_THROW(verify_fp8(dir, actual, 8), std::runtime_error);
  io::npy::write(actual, io::npy::make_array<std::int32_t>("<i4", {1}));
  EXPECT_THROW(verify_fp8(dir, actual, 8), std::runtime_error);
}

TEST(GoldenGen, DecodeMismatchesInUlps) {
  const std::string dir = temp_dir("decode"), actual = temp_dir("decode_actual");
  Fp8GenOptions o;
  o.level = Level::boundary;
  o.format = fp8::Format::e5m2;
  gen_fp8(o, dir);
  fs::create_directories(actual);
  auto dec = io::npy::read(dir + "/decode_expected.npy").values<std::uint32_t>();
  dec[0x3C] += 3;  // 1.0 decoded 3 f32 ulps off
  io::npy::write(actual + "/decode_expected.npy", io::npy::make_array("<u4", dec));
  const VerifyResult r = verify_fp8(dir, actual, 8);  // a directory with only the decode file
  EXPECT_EQ(r.tests, 256u);
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.classes.at("decode normal").errors, 1u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{3, 1}}));
  ASSERT_EQ(r.examples.size(), 1u);
  const std::string text = verify_text(r);
  EXPECT_NE(text.find("  decode normal [60] input 0x3c (60) => got 0x3f800003 (1.0000004) expected 0x3f800000 (1), distance 3\n"),
            std::string::npos) << text;
}

TEST(GoldenGenGse, ReferenceVerifiesAndCorruptionIsReported) {
  std::vector<gse::Format> formats{gse::Format{}, gse::Format{4, 16, 5, 15, 0, gse::MantissaOverflow::bump, gse::ExponentOverflow::saturate},
                                 gse::mxint8_format()};
  for (const gse::Format& f : formats)
    for (Rounding r : kRoundings) {
      const std::string dir = temp_dir("gse");
      GseGenOptions o;
      o.level = Level::boundary;
      o.format = f;
      o.rounding = r;
      o.level = Level::quick;
      o.random = 500;
      const GenSummary s = gen_gse(o, dir);
      const std::string what = fmt::format("bits {} group {} exp_bits {} {}", f.bits, f.group, f.exp_bits, name(r));
      EXPECT_EQ(s.counts.at("random"), (500u + f.group - 1) / f.group * f.group) << what;
      EXPECT_EQ(s.counts.at("tail"), static_cast<std::uint64_t>(f.group / 2 + 1)) << what;
      EXPECT_NE(s.cases % f.group, 0u) << what;  // the last group is short
      const VerifyResult v = verify_golden(dir, dir, 8);
      EXPECT_TRUE(v.passed()) << what << verify_text(v);
      EXPECT_EQ(v.tests, 2 * s.cases + f.groups(s.cases)) << what;
      EXPECT_THROW(verify_fp8(dir, dir, 8), std::runtime_error);
    }
  // One wrong code in the tail (off by 2) and one wrong exponent.
  const std::string dir = temp_dir("gse_c"), actual = temp_dir("gse_c_actual");
  GseGenOptions o;
  o.level = Level::boundary;
  const GenSummary s = gen_gse(o, dir);
  fs::create_directories(actual);
  auto codes = io::npy::read(dir + "/expected_codes.npy").values<std::int8_t>();
  auto exps = io::npy::read(dir + "/expected_exps.npy").values<std::uint8_t>();
  codes.back() = static_cast<std::int8_t>(codes.back() - 2);
  exps[0] = static_cast<std::uint8_t>(exps[0] + 1);
  io::npy::write(actual + "/expected_codes.npy", io::npy::make_array("|i1", codes));
  io::npy::write(actual + "/expected_exps.npy", io::npy::make_array("|u1", exps));
  const VerifyResult r = verify_golden(dir, actual, 8);
  EXPECT_EQ(r.tests, s.cases + exps.size());
  EXPECT_EQ(r.errors, 2u);
  EXPECT_EQ(r.classes.at("codes tail").errors, 1u);
  EXPECT_EQ(r.classes.at("exps exact").errors, 1u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 1}, {2, 1}}));
  EXPECT_EQ(r.distance_unit, "codes: codes; exps: exponent steps");
  // A single file goes by its dtype: |u1 = exponents.
  const VerifyResult e = verify_golden(dir, actual + "/expected_exps.npy", 8);
  EXPECT_EQ(e.tests, exps.size());
  EXPECT_EQ(e.errors, 1u);
}

TEST(GoldenGenNf4, ReferenceVerifiesAndCorruptionIsReported) {
  for (nf4::Table t : {nf4::Table::nf4, nf4::Table::fp4})
    for (const nf4::Profile& p : nf4::kProfiles)
      for (int block : {32, 64, 256}) {
        const std::string dir = temp_dir("nf4");
        Nf4GenOptions o;
        o.level = Level::boundary;
        o.table = t;
        o.profile = std::string(p.name);
        o.block = block;
        o.level = Level::quick;
        o.random = 300;
        const GenSummary s = gen_nf4(o, dir);
        const std::string what = fmt::format("{} {} {}", name(t), p.name, block);
        EXPECT_EQ(s.counts.at("tail"), static_cast<std::uint64_t>(block / 2 + 1)) << what;
        EXPECT_EQ(s.counts.at("random"), (300u + block - 1) / block * block) << what;
        const VerifyResult v = verify_golden(dir, dir, 8);
        EXPECT_TRUE(v.passed()) << what << verify_text(v);
        EXPECT_EQ(v.tests, 2 * s.cases + (s.cases + 1) / 2 + nf4::blocks(s.cases, block)) << what;
      }
  const std::string dir = temp_dir("nf4_c"), actual = temp_dir("nf4_c_actual.npy");
  Nf4GenOptions o;
  o.level = Level::boundary;
  const GenSummary s = gen_nf4(o, dir);
  auto codes = io::npy::read(dir + "/expected_codes.npy").values<std::uint8_t>();
  const auto cls = io::npy::read(dir + "/classes.npy").values<std::uint8_t>();
  std::size_t tie = 0;
  while (cls[tie] != static_cast<std::uint8_t>(Nf4CaseClass::tie) || codes[tie] == 0 || codes[tie] == 15) ++tie;
  codes[tie] = static_cast<std::uint8_t>(codes[tie] + 1);  // the other neighbour of a tie
  io::npy::write(actual, io::npy::make_array("|u1", codes));
  const VerifyResult r = verify_golden(dir, actual, 8);  // a single |u1 file of n values: the codes
  EXPECT_EQ(r.tests, s.cases);
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.classes.at("codes tie").errors, 1u);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{1, 1}}));
  EXPECT_EQ(r.format, "nf4");
  EXPECT_EQ(r.profile, "lowbit");
  o.block = 48;
  EXPECT_THROW(gen_nf4(o, dir), std::runtime_error);
}

TEST(GoldenGen, SafetensorsContainerHoldsTheSameArrays) {
  const std::string a = temp_dir("st_npy"), b = temp_dir("st_st");
  Fp8GenOptions o;
  o.level = Level::boundary;
  o.format = fp8::Format::e5m2;
  o.level = Level::quick;
  o.random = 500;
  gen_fp8(o, a);
  o.container = Container::safetensors;
  const GenSummary s = gen_fp8(o, b);
  ASSERT_EQ(s.sha256.size(), 1u);
  EXPECT_TRUE(s.sha256.count("golden.safetensors"));
  const GoldenSet npy_set(a), st_set(b);
  EXPECT_EQ(st_set.manifest()["container"], "safetensors");
  ASSERT_EQ(npy_set.manifest()["arrays"].size(), 6u);
  for (auto& [name, info] : npy_set.manifest()["arrays"].items()) EXPECT_EQ(npy_set.array(name), st_set.array(name)) << name;
  // The vendor may answer with a .safetensors of expected arrays, or a folder of .npy files.
  EXPECT_TRUE(verify_golden(b, b + "/golden.safetensors", 8).passed());
  EXPECT_TRUE(verify_golden(b, a, 8).passed());
  EXPECT_EQ(verify_golden(b, a, 8).tests, verify_golden(a, a, 8).tests);
  // A container changed after generation is refused.
  auto bytes = io::npy::read_bytes(b + "/golden.safetensors");
  bytes.back() ^= 1;
  io::npy::write_bytes(b + "/golden.safetensors", bytes);
  EXPECT_THROW(GoldenSet{b}, std::runtime_error);
}

TEST(GoldenGen, ManifestFileNamesMustBePlain) {
  const std::string dir = temp_dir("plain");
  Fp8GenOptions o;
  o.level = Level::boundary;
  gen_fp8(o, dir);
  nlohmann::json m = manifest(dir);
  m["files"]["../manifest.json"] = m["files"]["inputs.npy"];
  std::ofstream(fs::path(dir) / "manifest.json") << m.dump();
  EXPECT_THROW(GoldenSet{dir}, std::runtime_error);
}

TEST(GoldenGen, FloatOutputsMayBeWrittenAsFloats) {
  const std::string dir = temp_dir("f4"), actual = temp_dir("f4_actual.npy");
  Fp8GenOptions o;
  o.level = Level::boundary;
  gen_fp8(o, dir);
  auto dec = io::npy::read(dir + "/decode_expected.npy");
  dec.descr = "<f4";  // the same bits, as numpy writes a float32 array
  io::npy::write(actual, dec);
  const VerifyResult r = verify_fp8(dir, actual, 8);
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.tests, 256u);
  dec.bytes[4] ^= 1;  // one ulp off in code 1
  io::npy::write(actual, dec);
  EXPECT_EQ(verify_fp8(dir, actual, 8).errors, 1u);
  dec.descr = "<i4";  // an integer array is not a float's bits
  io::npy::write(actual, dec);
  EXPECT_THROW(verify_fp8(dir, actual, 8), std::runtime_error);
}
