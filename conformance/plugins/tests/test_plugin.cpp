// Vendor plugins (lowbit/vendor.h) under `lowbit conform --plugin`: the example plugin built from
// lowbit's own kernels passes the suites, the faulty plugin's report names what it gets wrong, a plugin
// that implements only some options passes with the rest listed as not supported, and crashes, error
// codes and bad libraries are reported.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <cstdlib>
#include <string>
#include <utility>

#include "plugin_test.hpp"

namespace {

using namespace plugin_test;
using lowbit::cli::UsageError;

#if defined(LOWBIT_EXAMPLE_PLUGIN) && defined(LOWBIT_FAULTY_PLUGIN) && defined(LOWBIT_RNE_ONLY_PLUGIN) && \
    defined(LOWBIT_C_PLUGIN) && defined(LOWBIT_NOT_A_PLUGIN) && defined(LOWBIT_FNUZ_PLUGIN) && defined(LOWBIT_FAULTY_NVFP4_PLUGIN)

// The formats whose suites `conform --plugin` runs without --format: those the plugin has a function
// of, and of the minifloats those it declares.
std::vector<std::string> implemented(const Plugin& p) {
  std::vector<std::string> out;
  for (const lowbit::cli::Suite& s : lowbit::cli::registry().suites())
    if (s.in_plugin(p))
      for (const std::string& f : s.plugin_formats)
        if (const auto fp8 = lowbit::fp8::parse_format(f); !fp8 || (p.fp8_formats() & lowbit::fp8::format_bit(*fp8)))
          out.push_back(f);
  return out;
}

// The formats of a run's checks, each once.
std::set<std::string> formats_of(const std::vector<Check>& checks) {
  std::set<std::string> out;
  for (const Check& c : checks) out.insert(c.format);
  return out;
}

TEST(Plugin, AVersion1PluginIsCalledWithE4m3AndE5m2Only) {
  EXPECT_EQ(Plugin(LOWBIT_RNE_ONLY_PLUGIN).fp8_formats(), lowbit::fp8::kOcpFp8);
  EXPECT_EQ(formats_of(conform(small(LOWBIT_RNE_ONLY_PLUGIN))), (std::set<std::string>{"e4m3", "e5m2"}));
  // Named, a format it cannot know is one failed check, and no call.
  const std::vector<Check> fnuz = conform(small(LOWBIT_RNE_ONLY_PLUGIN, {"float8_e4m3fnuz", "e5m2"}, {"ml_dtypes"}));
  const Check* c = find(fnuz, "e4m3fnuz", "not implemented by the plugin");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed());
  EXPECT_NE(c->first_errors.front().find("does not declare"), std::string::npos) << describe(*c);
  EXPECT_EQ(formats_of(fnuz), (std::set<std::string>{"e4m3fnuz", "e5m2"}));
  EXPECT_EQ(std::count_if(fnuz.begin(), fnuz.end(), [](const Check& k) { return k.format == "e4m3fnuz"; }), 1);
}

TEST(Plugin, ExamplePluginPassesEveryCheck) {
  const Plugin plugin(LOWBIT_EXAMPLE_PLUGIN);
  EXPECT_EQ(plugin.name(), "lowbit-example");
  EXPECT_EQ(implemented(plugin),
            (std::vector<std::string>{"e4m3", "e5m2", "binary8p8uf", "gse", "gse-gemm", "mx", "nf4", "nvfp4", "qeft"}));
  // binary8p8uf is format 40: version 4's fp8_formats_high declares it.
  EXPECT_EQ(plugin.fp8_formats(), lowbit::fp8::kOcpFp8 | lowbit::fp8::format_bit(lowbit::fp8::Format::binary8p8uf));
  // Three FP8 profiles here (both NaN semantics, with and without saturation; P3109's), the others in
  // `lowbit conform` runs of lowbit's own implementations, already tested; the block suites run whole.
  ConformRequest r = small(LOWBIT_EXAMPLE_PLUGIN);
  r.run.profiles = {"ml_dtypes", "cuda-satfinite", "p3109", "exact", "fp32", "microxcaling", "lowbit", "bnb-cpu", "bnb-torch",
                    "bnb-cuda", "transformer-engine"};
  std::vector<Check> checks = conform(r);
  for (const char* f : {"gse", "qeft"}) {  // the suites without profiles
    std::vector<Check> more = conform(small(LOWBIT_EXAMPLE_PLUGIN, {f}));
    checks.insert(checks.end(), more.begin(), more.end());
  }
  std::uint64_t cases = 0;
  for (const Check& c : checks) {
    EXPECT_TRUE(c.passed()) << describe(c);
    EXPECT_EQ(c.impl, "lowbit-example");
    cases += c.cases;
  }
  EXPECT_GT(cases, 0u);
  for (const char* f : {"e4m3", "e5m2", "binary8p8uf", "gse", "gse-gemm", "mx", "nf4", "nvfp4", "qeft"}) {
    const Check* status = find(checks, f, "plugin status codes");
    ASSERT_NE(status, nullptr) << f;
    EXPECT_GT(status->cases, 0u) << f;  // the suite did call the plugin
  }
  for (const char* f : {"e4m3", "e5m2", "nf4"}) EXPECT_NE(find(checks, f, std::string(f) == "nf4" ? "golden" : "-> fp8/"), nullptr) << f;
  EXPECT_NE(find(checks, "e4m3", "f32 sample sr -> reference"), nullptr);
  EXPECT_NE(find(checks, "e5m2", "decode bf16 -> reference"), nullptr);
  // The block suites as conform runs them on an optimized kernel: oracles, then the reference.
  for (const char* name : {"encode f32 groups -> spec oracle", "encode bf16 groups -> spec oracle", "decode f32 -> exact value",
                           "stream f16 encode+decode -> reference"})
    EXPECT_NE(find(checks, "gse", name), nullptr) << name;
  for (const char* f : {"mxint8", "mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4-e2m1"}) {
    EXPECT_NE(find(checks, f, "quantize rne -> microxcaling oracle"), nullptr) << f;
    EXPECT_NE(find(checks, f, "stream encode+decode -> reference"), nullptr) << f;
  }
  // NVFP4 through the version-3 slots: the fixed vectors and the random tensors of every layout.
  for (const char* name : {"fixed vectors rne -> docs/formats/nvfp4.md", "fixed vectors sr -> docs/formats/nvfp4.md",
                           "fixed vectors decode -> docs/formats/nvfp4.md", "random 2d swizzled tensors encode+decode -> reference"})
    EXPECT_NE(find(checks, "nvfp4", name), nullptr) << name;
  EXPECT_NE(find(checks, "qeft", "golden layers -> lane-order sum of golden deq"), nullptr);
  EXPECT_NE(find(checks, "qeft", "random layers -> reference"), nullptr);
  // The GEMM in both accumulations, through the C slot, against the reference.
  for (const char* name : {"b=4 N=16 e5 bias 15 off -30: boundary set", "random mixed-format problems -> reference"}) {
    const Check* c = find(checks, "gse-gemm", name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_EQ(c->profile, "exact");  // the first of the two
  }
  for (const Check& c : checks) {
    if (c.format == "gse-gemm") {
      EXPECT_TRUE(c.profile == "exact" || c.profile == "fp32" || c.name == "plugin status codes") << c.profile;
    }
    EXPECT_TRUE(c.supported()) << describe(c);
  }
}

// Every first error of a check names one of `parts`; and the counts add up: some but not all cases
// failed, and the list holds min(errors, max_errors) of them.
void expect_failed(const std::vector<Check>& checks, const std::string& format, const std::string& name,
                   const std::string& part, std::size_t max_errors = 8) {
  const Check* c = find(checks, format, name);
  ASSERT_NE(c, nullptr) << format << " " << name;
  EXPECT_FALSE(c->passed()) << describe(*c);
  EXPECT_GT(c->errors, 0u) << describe(*c);
  EXPECT_LT(c->errors, c->cases) << describe(*c);
  EXPECT_EQ(c->first_errors.size(), std::min<std::size_t>(c->errors, max_errors)) << describe(*c);
  for (const std::string& e : c->first_errors) EXPECT_NE(e.find(part), std::string::npos) << format << " " << name << ": " << e;
}
void expect_passed(const std::vector<Check>& checks, const std::string& format, const std::string& name) {
  const Check* c = find(checks, format, name);
  ASSERT_NE(c, nullptr) << format << " " << name;
  EXPECT_TRUE(c->passed()) << describe(*c);
}

TEST(Plugin, FaultyPluginsReportNamesTheGseTieRuleTheMxScaleAndTheQeftNibbles) {
  const std::vector<Check> checks = conform(small(LOWBIT_FAULTY_PLUGIN, {"gse", "mx", "qeft"}));
  // GSE: the groups rounded rne (and only those) differ from the oracle; decode is right.
  for (const char* type : {"f32", "f16", "bf16"})
    expect_failed(checks, "gse", std::string("encode ") + type + " groups -> spec oracle", " rne]: ");
  expect_passed(checks, "gse", "decode f32 -> exact value");
  // MX: every minifloat format's scales are too large by emax; MXINT8 (emax 0) is right.
  for (const char* f : {"mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4-e2m1"})
    expect_failed(checks, f, "stream encode+decode -> reference", "=> scale 0x");
  expect_failed(checks, "mxfp4-e2m1", "quantize rne -> microxcaling oracle", "expected");
  for (const char* name : {"quantize rna -> microxcaling oracle", "stream encode+decode -> reference"})
    expect_passed(checks, "mxint8", name);
  // QEFT: reversed nibbles are other weights, on the golden layers and the random ones.
  expect_failed(checks, "qeft", "golden layers -> lane-order sum of golden deq", " y");
  expect_failed(checks, "qeft", "random layers -> reference", " y");
  for (const char* f : {"gse", "mx", "qeft"}) expect_passed(checks, f, "plugin status codes");
}

TEST(Plugin, FaultyPluginsGemmIgnoresBsExponentOffset) {
  const std::vector<Check> checks = conform(small(LOWBIT_FAULTY_PLUGIN, {"gse-gemm"}));
  std::size_t fp32 = 0;
  for (const Check& c : checks) {
    if (c.name == "plugin status codes") continue;
    fp32 += c.profile == "fp32";
    // Offset 0 in both operands: right in both accumulations; an offset: wrong in both.
    if (c.name.find("off 0:") != std::string::npos) EXPECT_TRUE(c.passed()) << describe(c);
    else if (c.name.find(" off ") != std::string::npos) expect_failed({c}, "gse-gemm", c.name, "expected");
  }
  EXPECT_EQ(fp32, 6u);
  expect_passed(checks, "gse-gemm", "plugin status codes");
}

TEST(Plugin, FaultyPluginsReportNamesTheWrongTieRuleAndTheNibbleOrder) {
  const std::vector<Check> checks = conform(small(LOWBIT_FAULTY_PLUGIN, {"e4m3", "e5m2", "nf4"}, {"ml_dtypes", "lowbit", "bnb-cpu"}));
  for (const char* f : {"e4m3", "e5m2"}) {
    // Ties: every rne check fails, the other roundings and the decoders pass.
    for (const char* name : {"f16 all -> ", "bf16 all -> ", "f32 sample -> ", "f16 all rne -> reference",
                             "f32 sample rne -> reference"}) {
      const Check* c = find(checks, f, name);
      ASSERT_NE(c, nullptr) << f << " " << name;
      EXPECT_FALSE(c->passed()) << describe(*c);
      EXPECT_GT(c->errors, 0u);
      EXPECT_FALSE(c->first_errors.empty());
    }
    for (const char* name : {"f16 all rna -> reference", "f32 sample rtz -> reference", "decode f32 -> reference",
                             "plugin status codes"}) {
      const Check* c = find(checks, f, name);
      ASSERT_NE(c, nullptr) << f << " " << name;
      EXPECT_TRUE(c->passed()) << describe(*c);
    }
  }
  // Nibbles: the codes differ from bitsandbytes' and the reference's, first errors name the codes.
  const Check* golden = find(checks, "nf4", "every case -> golden");
  ASSERT_NE(golden, nullptr);
  EXPECT_FALSE(golden->passed());
  ASSERT_FALSE(golden->first_errors.empty());
  EXPECT_NE(golden->first_errors.front().find("codes"), std::string::npos) << golden->first_errors.front();
  const Check* random = find(checks, "nf4", "random streams -> reference");
  ASSERT_NE(random, nullptr);
  EXPECT_FALSE(random->passed());
}

TEST(Plugin, ACrashIsAFailedCheckAndTheOtherGroupsStillReport) {
  SKIP_WITHOUT_FORK();
  const ScopedEnv crash("LOWBIT_FAULTY_CRASH", "e5m2");
  const std::vector<Check> checks = conform(small(LOWBIT_FAULTY_PLUGIN, {"e4m3", "e5m2", "nf4"}, {"ml_dtypes", "bnb-cpu"}));
  const Check* crashed = find(checks, "e5m2", "plugin crashed");
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->name, "plugin crashed (signal 11)");
  EXPECT_FALSE(crashed->passed());
  EXPECT_EQ(find(checks, "e4m3", "plugin crashed"), nullptr);
  EXPECT_NE(find(checks, "e4m3", "f32 sample rtz -> reference"), nullptr);
  EXPECT_NE(find(checks, "nf4", "every case -> golden"), nullptr);
  // The same for a block suite's group: MX dies, QEFT after it still reports.
  const ScopedEnv mx_crash("LOWBIT_FAULTY_CRASH", "mx");
  const std::vector<Check> blocks = conform(small(LOWBIT_FAULTY_PLUGIN, {"mx", "qeft"}));
  const Check* mx = find(blocks, "mx", "plugin crashed");
  ASSERT_NE(mx, nullptr);
  EXPECT_EQ(mx->name, "plugin crashed (signal 11)");
  EXPECT_NE(find(blocks, "qeft", "random layers -> reference"), nullptr);
  EXPECT_EQ(find(blocks, "qeft", "plugin crashed"), nullptr);
}

TEST(Plugin, AnErrorCodeIsAFailedCheck) {
  for (auto [format, call] : {std::pair{"nf4", "nf4_quantize_f32(n="}, std::pair{"gse", "gse_encode_f32(n="}, std::pair{"gse-gemm", "gse_gemm_f32(m="},
                              std::pair{"mx", "mx_encode_f32(n="}, std::pair{"qeft", "qeft_matvec_f32(oc="}}) {
    const ScopedEnv error("LOWBIT_FAULTY_ERROR", format);
    ConformRequest o = small(LOWBIT_FAULTY_PLUGIN, {format});
    for (bool isolate : {true, false}) {
      if (!isolate && std::string(format) != "nf4") continue;  // one in-process run is enough
      if (isolate && !kForkWorks) continue;
      o.run.isolate = isolate;
      const std::vector<Check> checks = conform(o);
      const Check* status = find(checks, format, "plugin status codes");
      ASSERT_NE(status, nullptr) << format;
      EXPECT_FALSE(status->passed());
      EXPECT_GT(status->errors, 0u);
      ASSERT_FALSE(status->first_errors.empty());
      EXPECT_NE(status->first_errors.front().find(call), std::string::npos) << status->first_errors.front();
      // The error names the call's options and the status's meaning.
      EXPECT_NE(status->first_errors.front().find("plugin returned error 42 (not a lowbit status: the vendor's own error code)"),
                std::string::npos) << status->first_errors.front();
    }
  }
}

TEST(Plugin, ACPluginsNullSlotsAreNotImplementedAndItsUnsupportedSlotsAreNotFailures) {
  const Plugin plugin(LOWBIT_C_PLUGIN);
  EXPECT_EQ(plugin.name(), "c-vendor");
  EXPECT_EQ(implemented(plugin), (std::vector<std::string>{"gse-gemm", "qeft"}));
  const std::vector<Check> checks = conform(small(LOWBIT_C_PLUGIN, {"qeft", "gse", "mx", "gse-gemm"}));
  // Its two functions answer LOWBIT_E_UNSUPPORTED to every call: each check that calls one is
  // "not supported" (the call and the status named), none failed; its last slot is called.
  for (auto [format, call] : {std::pair{"qeft", "qeft_matvec_f32(oc="}, std::pair{"gse-gemm", "gse_gemm_f32(m="}}) {
    std::size_t not_supported = 0;
    for (const Check& c : checks) {
      if (c.format != format || c.name == "plugin status codes") continue;
      EXPECT_FALSE(c.supported()) << describe(c);
      EXPECT_FALSE(c.failed()) << describe(c);
      EXPECT_NE(c.not_supported.find(call), std::string::npos) << c.not_supported;
      EXPECT_NE(c.not_supported.find("LOWBIT_E_UNSUPPORTED: this option combination is not implemented"), std::string::npos)
          << c.not_supported;
      ++not_supported;
    }
    EXPECT_GT(not_supported, 0u) << format;
    const Check* status = find(checks, format, "plugin status codes");
    ASSERT_NE(status, nullptr);
    EXPECT_GT(status->cases, 0u);   // the calls were made
    EXPECT_EQ(status->errors, 0u);  // unsupported is no error
  }
  for (const char* f : {"gse", "mx"}) {
    const Check* c = find(checks, f, "not implemented by the plugin");
    ASSERT_NE(c, nullptr) << f;
    EXPECT_TRUE(c->failed());
  }
}

// ml_dtypes' float8 conversions as a plugin: rne only, the ml_dtypes profile only. Every check it
// supports passes; the others are "not supported", listed apart, and the run has no failure.
// The fnuz plugin declares e4m3 and e4m3fnuz (version 2) and aborts on any other format: it runs on
// those two only, e4m3 passes, and its fnuz -0 (0x80, the NaN) fails ml_dtypes' tables.
TEST(Plugin, AVersion2PluginRunsOnTheFormatsItDeclaresAndAWrongOneIsCaught) {
  using lowbit::fp8::Format;
  const Plugin plugin(LOWBIT_FNUZ_PLUGIN);
  EXPECT_EQ(plugin.name(), "fnuz-vendor");
  EXPECT_EQ(plugin.fp8_formats(), lowbit::fp8::format_bit(Format::e4m3) | lowbit::fp8::format_bit(Format::e4m3fnuz));
  const std::vector<Check> checks = conform(small(LOWBIT_FNUZ_PLUGIN, {}, {"ml_dtypes", "ml_dtypes-sat"}));
  EXPECT_EQ(formats_of(checks), (std::set<std::string>{"e4m3", "e4m3fnuz"}));
  for (const Check& c : checks) {
    const bool right = c.format == "e4m3" || c.name.starts_with("decode") || c.name == "plugin status codes";
    EXPECT_TRUE(!right || c.passed()) << describe(c);  // an abort (a call with another format) would fail one
  }
  for (const char* name : {"f16 all -> minifloat/e4m3fnuz.from_f16.rne.u8", "f64 vectors -> minifloat/e4m3fnuz.from_f64.sat.vec",
                           "f16 all rtz -> reference"})
    expect_failed(checks, "e4m3fnuz", name, "expected 0x00");
}

// Version 3 adds the NVFP4 slots. The faulty NVFP4 plugin swaps the row strides of the swizzled scale
// layout: every check that uses that layout fails, the linear ones pass; plugins of versions 1 and 2
// have no NVFP4 function.
TEST(Plugin, AVersion3PluginsNvfp4SwizzleFaultIsCaught) {
  const Plugin plugin(LOWBIT_FAULTY_NVFP4_PLUGIN);
  ASSERT_NE(plugin.descriptor3(), nullptr);
  EXPECT_EQ(plugin.name(), "faulty-nvfp4-vendor");
  EXPECT_EQ(plugin.fp8_formats(), 0u);
  EXPECT_EQ(implemented(plugin), (std::vector<std::string>{"nvfp4"}));
  const std::vector<Check> checks = conform(small(LOWBIT_FAULTY_NVFP4_PLUGIN));
  EXPECT_EQ(formats_of(checks), (std::set<std::string>{"nvfp4"}));
  for (const char* b : {"1d", "2d"}) {
    expect_failed(checks, "nvfp4", fmt::format("random {} swizzled tensors", b), "scale [");
    expect_passed(checks, "nvfp4", fmt::format("random {} linear tensors", b));
  }
  expect_failed(checks, "nvfp4", "fixed vectors rne -> docs/formats/nvfp4.md", "swizzled scales 130 x 80: scale [1030]");
  expect_failed(checks, "nvfp4", "fixed vectors decode -> docs/formats/nvfp4.md", "swizzled scales 130 x 80: decode of element (129, 32)");
  for (const char* name : {"fixed vectors sr -> docs/formats/nvfp4.md", "plugin status codes"}) expect_passed(checks, "nvfp4", name);
  for (const char* older : {LOWBIT_RNE_ONLY_PLUGIN, LOWBIT_FNUZ_PLUGIN}) {  // versions 1 and 2 have no NVFP4 slot
    EXPECT_EQ(Plugin(older).descriptor3(), nullptr);
    const std::vector<Check> none = conform(small(older, {"nvfp4"}));
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0].name, "not implemented by the plugin");
    EXPECT_TRUE(none[0].failed());
  }
}

TEST(Plugin, APluginWithSomeOptionsPassesWithTheRestNotSupported) {
  const std::vector<Check> checks = conform(small(LOWBIT_RNE_ONLY_PLUGIN));
  std::size_t passed = 0, not_supported = 0;
  for (const Check& c : checks) {
    EXPECT_FALSE(c.failed()) << describe(c);
    passed += c.passed();
    not_supported += !c.supported();
    if (c.name == "plugin status codes") continue;
    const bool rne = c.name.find(" -> fp8/") != std::string::npos || c.name.find(" rne ") != std::string::npos ||
                     c.name.find(".rne.") != std::string::npos || c.name.starts_with("decode");
    EXPECT_EQ(c.supported(), c.profile == "ml_dtypes" && rne) << describe(c);
  }
  EXPECT_GT(passed, 10u);
  EXPECT_GT(not_supported, 10u);
  const Check* rna = find(checks, "e4m3", "f32 sample rna -> reference");
  ASSERT_NE(rna, nullptr);
  EXPECT_NE(rna->not_supported.find("fp8_encode_f32(n="), std::string::npos) << rna->not_supported;
  EXPECT_NE(rna->not_supported.find("e4m3, rounding rna, profile ml_dtypes"), std::string::npos) << rna->not_supported;
  EXPECT_EQ(rna->cases, 0u);  // not run further
  // --rounding and --profile scope the run: only supported checks are left.
  ConformRequest scoped = small(LOWBIT_RNE_ONLY_PLUGIN, {"e5m2"}, {"ml_dtypes"});
  scoped.run.roundings = {lowbit::Rounding::rne};
  for (const Check& c : conform(scoped)) {
    EXPECT_TRUE(c.passed()) << describe(c);
    EXPECT_EQ(c.name.find(" rna "), std::string::npos) << describe(c);
  }
  // The report: passed, failed and not supported counted apart; the long vendor name keeps the columns.
  std::FILE* f = std::tmpfile();
  print_report(f, checks, true);
  std::rewind(f);
  std::string text;
  for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
  std::fclose(f);
  EXPECT_NE(text.find(fmt::format("{} passed, 0 failed, {} not supported", passed, not_supported)), std::string::npos) << text;
  EXPECT_NE(text.find("Not supported by the implementation"), std::string::npos);
  std::size_t header_col = std::string::npos, rows = 0;
  for (std::size_t at = 0; at < text.size();) {  // the per-check table: every "cases" entry ends in the header's column
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.starts_with("impl ") && line.find(" check ") != std::string::npos) {
      header_col = line.find("cases") + 5;
    } else if (line.empty()) {
      header_col = std::string::npos;
    } else if (header_col != std::string::npos && line.starts_with("ml_dtypes float8")) {
      ASSERT_GT(line.size(), header_col);
      EXPECT_EQ(line[header_col], ' ') << line;
      EXPECT_NE(line[header_col - 1], ' ') << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, checks.size());
}

TEST(Plugin, BadLibrariesAreClearErrors) {
  {
    const ScopedEnv abi("LOWBIT_FAULTY_ABI", "2");
    const std::string e = error_of([] { Plugin p(LOWBIT_FAULTY_PLUGIN); });
    EXPECT_NE(e.find("vendor ABI version 2, this lowbit supports version 1 only"), std::string::npos) << e;
  }
  EXPECT_EQ(Plugin(LOWBIT_FAULTY_PLUGIN).name(), "faulty-vendor");  // the version is read at each load
  const std::string missing = error_of([] { Plugin p(LOWBIT_NOT_A_PLUGIN); });
  EXPECT_NE(missing.find("is not a lowbit vendor plugin: it does not export lowbit_vendor_descriptor_v1"),
            std::string::npos) << missing;
  const std::string absent = error_of([] { Plugin p("/nonexistent/libvendor.so"); });
  EXPECT_NE(absent.find("cannot load plugin /nonexistent/libvendor.so"), std::string::npos) << absent;
  EXPECT_THROW(conform(small(LOWBIT_EXAMPLE_PLUGIN, {"owq"})), UsageError);  // no vendor function checks OWQ
}

TEST(Plugin, ConformCommandExitStatus) {
  const auto run = [](std::vector<std::string> args) {
    if (!kForkWorks) args.push_back("--in-process");
    return lowbit::cli::run(args);
  };
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_EXAMPLE_PLUGIN, "--format", "e4m3fn", "--profile", "ml_dtypes-sat", "--threads", "1"}), 0);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_FAULTY_PLUGIN, "--format", "e4m3", "--profile", "ml_dtypes-sat", "--json"}), 1);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_FAULTY_PLUGIN, "--format", "mxfp4-e2m1"}), 1);  // an MX name runs the MX suite
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_EXAMPLE_PLUGIN, "--format", "mxfp4-e2m1"}), 0);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_EXAMPLE_PLUGIN, "--format", "nvfp4"}), 0);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_FAULTY_NVFP4_PLUGIN, "--format", "nvfp4"}), 1);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_RNE_ONLY_PLUGIN, "--format", "e5m2"}), 0);  // not supported is no failure
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_RNE_ONLY_PLUGIN, "--format", "gse"}), 1);   // not implemented is one
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_EXAMPLE_PLUGIN, "--format", "owq"}), 2);    // no vendor function checks OWQ
  EXPECT_EQ(run({"conform", "--plugin", "/nonexistent/libvendor.so"}), 2);
  EXPECT_EQ(run({"conform", "--plugin", LOWBIT_EXAMPLE_PLUGIN, "--impl", "avx2"}), 2);  // --impl names lowbit's own
}

#else
TEST(Plugin, NotBuilt) { GTEST_SKIP() << "conformance/plugins is not part of this build"; }
#endif

}  // namespace
