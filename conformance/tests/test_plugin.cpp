// Vendor plugins (lowbit/vendor.h): the example plugin built from lowbit's own kernels passes the
// suite, the faulty plugin's report names what it gets wrong, and crashes, error codes and bad
// libraries are reported.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "lowbit/conformance/plugin.hpp"
#include "plugin_command.hpp"
#include "stream.hpp"

namespace {

using namespace lowbit::conformance;

#if defined(LOWBIT_EXAMPLE_PLUGIN) && defined(LOWBIT_FAULTY_PLUGIN) && defined(LOWBIT_NOT_A_PLUGIN)

PluginSuiteOptions small(std::vector<std::string> formats = {}, std::vector<std::string> profiles = {}) {
  PluginSuiteOptions o;
  o.formats = std::move(formats);
  o.profiles = std::move(profiles);
  o.random_cases = 1 << 12;
  return o;
}

// Sets an environment variable for one scope (the plugin reads it in the child processes).
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~ScopedEnv() { unsetenv(name); }
};

std::string describe(const Check& c) {
  return c.impl + " " + c.format + " " + c.profile + " " + c.name + ": " + std::to_string(c.errors) + " errors" +
         (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
}

const Check* find(const std::vector<Check>& checks, const std::string& format, const std::string& name_part) {
  for (const Check& c : checks)
    if (c.format == format && c.name.find(name_part) != std::string::npos) return &c;
  return nullptr;
}

TEST(Plugin, ExamplePluginPassesEveryCheck) {
  const Plugin plugin(LOWBIT_EXAMPLE_PLUGIN);
  EXPECT_EQ(plugin.name(), "lowbit-example");
  EXPECT_EQ(plugin.formats(), (std::vector<std::string>{"e4m3", "e5m2", "nf4"}));
  // Two profiles here (both NaN semantics, with and without saturation), the others below and in
  // `lowbit verify --plugin` runs: the suite over every profile is `lowbit conform`'s, already tested.
  const std::vector<Check> checks =
      run_plugin_suites(plugin, GoldenDir::from_env(), small({}, {"ml_dtypes", "cuda-satfinite"}));
  std::uint64_t cases = 0;
  for (const Check& c : checks) {
    EXPECT_TRUE(c.passed()) << describe(c);
    EXPECT_EQ(c.impl, "lowbit-example");
    cases += c.cases;
  }
  EXPECT_GT(cases, 0u);
  for (const char* f : {"e4m3", "e5m2", "nf4"}) {
    EXPECT_NE(find(checks, f, "plugin status codes"), nullptr) << f;
    EXPECT_NE(find(checks, f, std::string(f) == "nf4" ? "golden" : "-> fp8/"), nullptr) << f;
  }
  EXPECT_NE(find(checks, "e4m3", "f32 sample sr -> reference"), nullptr);
  EXPECT_NE(find(checks, "e5m2", "decode bf16 -> reference"), nullptr);
}

TEST(Plugin, FaultyPluginsReportNamesTheWrongTieRuleAndTheNibbleOrder) {
  const Plugin plugin(LOWBIT_FAULTY_PLUGIN);
  const std::vector<Check> checks = run_plugin_suites(plugin, GoldenDir::from_env(), small({}, {"ml_dtypes"}));
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
  const ScopedEnv crash("LOWBIT_FAULTY_CRASH", "e5m2");
  const Plugin plugin(LOWBIT_FAULTY_PLUGIN);
  const std::vector<Check> checks = run_plugin_suites(plugin, GoldenDir::from_env(), small({}, {"ml_dtypes"}));
  const Check* crashed = find(checks, "e5m2", "plugin crashed");
  ASSERT_NE(crashed, nullptr);
  EXPECT_EQ(crashed->name, "plugin crashed (signal 11)");
  EXPECT_FALSE(crashed->passed());
  EXPECT_EQ(find(checks, "e4m3", "plugin crashed"), nullptr);
  EXPECT_NE(find(checks, "e4m3", "f32 sample rtz -> reference"), nullptr);
  EXPECT_NE(find(checks, "nf4", "every case -> golden"), nullptr);
}

TEST(Plugin, AnErrorCodeIsAFailedCheck) {
  const ScopedEnv error("LOWBIT_FAULTY_ERROR", "nf4");
  const Plugin plugin(LOWBIT_FAULTY_PLUGIN);
  PluginSuiteOptions o = small({"nf4"});
  for (bool isolate : {true, false}) {
    o.isolate = isolate;
    const std::vector<Check> checks = run_plugin_suites(plugin, GoldenDir::from_env(), o);
    const Check* status = find(checks, "nf4", "plugin status codes");
    ASSERT_NE(status, nullptr);
    EXPECT_FALSE(status->passed());
    EXPECT_GT(status->errors, 0u);
    ASSERT_FALSE(status->first_errors.empty());
    EXPECT_NE(status->first_errors.front().find("nf4_quantize_f32(n="), std::string::npos);
    EXPECT_NE(status->first_errors.front().find("plugin returned error 7"), std::string::npos);
  }
}

template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(no error)";
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
  EXPECT_THROW(run_plugin_suites(Plugin(LOWBIT_EXAMPLE_PLUGIN), GoldenDir::from_env(), small({"gse"})),
               std::invalid_argument);
}

TEST(Plugin, VerifyCommandExitStatus) {
  lowbit::cli::PluginArgs a;
  a.formats = {"e4m3fn"};
  a.profiles = {"ml_dtypes-sat"};
  a.threads = 1;
  a.path = LOWBIT_EXAMPLE_PLUGIN;
  EXPECT_EQ(lowbit::cli::run_verify_plugin(a), 0);
  a.path = LOWBIT_FAULTY_PLUGIN;
  a.json = true;
  EXPECT_EQ(lowbit::cli::run_verify_plugin(a), 1);
  a.formats = {"gse"};
  EXPECT_THROW(lowbit::cli::run_verify_plugin(a), lowbit::cli::UsageError);
}

#else
TEST(Plugin, NotBuilt) { GTEST_SKIP() << "conformance/plugins is not part of this build"; }
#endif

}  // namespace
