// The loader's defences against a plugin that computes right results but misbehaves around them
// (examples/misbehaving_plugin.cpp): a call that never returns, a helper process that holds lowbit's
// pipe, writes outside an output buffer, exit() inside a call, a crash or a hang while loading.
#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin_test.hpp"

namespace {

using namespace plugin_test;

#ifdef LOWBIT_MISBEHAVING_PLUGIN

constexpr const char* kPlugin = LOWBIT_MISBEHAVING_PLUGIN;

// `lowbit conform --plugin <misbehaving> ARGS... --timeout 2` (in-process where fork does not work).
int run_tool(std::vector<std::string> args) {
  args.insert(args.begin(), {"conform", "--plugin", kPlugin, "--timeout", "2"});
  if (!kForkWorks) args.push_back("--in-process");
  return lowbit::cli::run(args);
}

ConformRequest quick(std::vector<std::string> formats, std::vector<std::string> profiles = {}) {
  ConformRequest r = small(kPlugin, std::move(formats), std::move(profiles));
  r.run.timeout = 2;
  return r;
}

TEST(PluginDefences, ACallThatNeverReturnsTimesOutAndTheOtherGroupsStillReport) {
  SKIP_WITHOUT_FORK();
  const ScopedEnv hang("LOWBIT_MISBEHAVE", "hang");
  const std::vector<Check> checks = conform(quick({"mx", "qeft"}));
  for (auto [format, call] : {std::pair{"mx", "mx_encode_f32"}, std::pair{"qeft", "qeft_matvec_f32"}}) {
    const Check* c = find(checks, format, "plugin timed out");
    ASSERT_NE(c, nullptr) << format;
    EXPECT_TRUE(c->failed());
    ASSERT_EQ(c->first_errors.size(), 1u);
    EXPECT_NE(c->first_errors[0].find(std::string(call) + " did not return within 2 s"), std::string::npos) << c->first_errors[0];
  }
}

// The pid a helper process of the plugin wrote, once it is gone (or a zombie no one reaps): true.
bool gone(pid_t pid) {
  for (int i = 0; i < 300; ++i) {  // 30 s
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const std::size_t paren = line.rfind(')');
    if (paren != std::string::npos && line.substr(paren + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(PluginDefences, AHelperProcessHoldingThePipeNeitherHangsTheRunNorOutlivesIt) {
  SKIP_WITHOUT_FORK();
  const std::filesystem::path pidfile =
      std::filesystem::temp_directory_path() / ("lowbit-helper-" + std::to_string(::getpid()) + ".pid");
  std::filesystem::remove(pidfile);
  const ScopedEnv fork_helper("LOWBIT_MISBEHAVE", "fork");
  const ScopedEnv where("LOWBIT_MISBEHAVE_PIDFILE", pidfile.c_str());
  const std::vector<Check> checks = conform(quick({"e4m3"}, {"ml_dtypes"}));
  for (const Check& c : checks) EXPECT_TRUE(c.passed()) << describe(c);
  pid_t helper = 0;
  std::ifstream(pidfile) >> helper;
  std::filesystem::remove(pidfile);
  ASSERT_GT(helper, 0) << "the plugin started no helper";
  EXPECT_TRUE(gone(helper)) << "helper " << helper << " outlived its group";
}

TEST(PluginDefences, InProcessACallThatNeverReturnsEndsTheRunWithAClearLine) {
  SKIP_WITHOUT_FORK();  // a death test forks
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const ScopedEnv hang("LOWBIT_MISBEHAVE", "hang");
  EXPECT_EXIT(run_tool({"--format", "e4m3", "--profile", "ml_dtypes", "--in-process"}), testing::ExitedWithCode(1),
              "fp8_encode_f16 did not return within 2 s");  // the suite's first call
}

// Every check that called the plugin failed, its first error `what` of one buffer; the names of the
// buffers its first errors name are returned.
std::set<std::string> buffers_hit(const std::vector<Check>& checks, const std::string& what) {
  const std::regex line("\\w+\\(.*\\) " + what + " (\\w+) \\(n=\\d+, \\d+ bytes?\\)");
  std::set<std::string> names;
  for (const Check& c : checks) {
    if (c.name == "plugin status codes") {
      EXPECT_TRUE(c.passed()) << describe(c);  // the calls returned LOWBIT_OK
      continue;
    }
    EXPECT_TRUE(c.failed()) << describe(c);
    if (c.first_errors.empty() || !std::regex_match(c.first_errors[0], line)) ADD_FAILURE() << describe(c);
    for (const std::string& e : c.first_errors)
      if (std::smatch m; std::regex_match(e, m, line)) names.insert(m[1]);
  }
  return names;
}

TEST(PluginDefences, AWritePastTheEndOfAnOutputBufferFailsItsCheck) {
  const ScopedEnv overrun("LOWBIT_MISBEHAVE", "overrun");
  std::set<std::string> names;
  for (const ConformRequest& r : {quick({"e4m3"}, {"ml_dtypes"}), quick({"nf4"}, {"bnb-cpu"}), quick({"gse", "gse-gemm", "mx", "qeft"})}) {
    const std::set<std::string> more = buffers_hit(conform(r), "wrote past the end of");
    names.insert(more.begin(), more.end());
  }
  EXPECT_EQ(names, (std::set<std::string>{"out", "packed", "absmax", "codes", "exps", "stats", "scales", "c", "y"}));
  // The same in-process, and the message's counts.
  ConformRequest r = quick({"e5m2"}, {"ml_dtypes"});
  r.run.isolate = false;
  const std::vector<Check> checks = conform(r);
  EXPECT_EQ(buffers_hit(checks, "wrote past the end of"), std::set<std::string>{"out"});
  const Check* c = find(checks, "e5m2", "f32 sample rne -> reference");
  ASSERT_NE(c, nullptr);
  ASSERT_FALSE(c->first_errors.empty());
  EXPECT_TRUE(std::regex_match(c->first_errors[0], std::regex("fp8_encode_f32\\(n=(\\d+), e5m2, rounding rne, profile ml_dtypes\\) "
                                                               "wrote past the end of out \\(n=\\1, 4 bytes\\)")))
      << c->first_errors[0];
  EXPECT_EQ(run_tool({"--format", "e4m3", "--profile", "ml_dtypes"}), 1);
}

TEST(PluginDefences, AWriteBeforeTheStartOfAnOutputBufferFailsItsCheck) {
  const ScopedEnv underrun("LOWBIT_MISBEHAVE", "underrun");
  EXPECT_EQ(buffers_hit(conform(quick({"gse"})), "wrote before the start of"), (std::set<std::string>{"codes", "exps", "stats", "out"}));
  const std::vector<Check> checks = conform(quick({"e4m3"}, {"ml_dtypes"}));
  const Check* c = find(checks, "e4m3", "decode f32 -> reference");
  ASSERT_NE(c, nullptr);
  ASSERT_FALSE(c->first_errors.empty());
  EXPECT_NE(c->first_errors[0].find("fp8_decode_f32(n=256, e4m3, profile ml_dtypes) wrote before the start of out (n=256, 1 byte)"),
            std::string::npos) << c->first_errors[0];
}

TEST(PluginDefences, ExitInAPluginCallIsAFailure) {
  SKIP_WITHOUT_FORK();  // a death test forks
  const ScopedEnv exit_call("LOWBIT_MISBEHAVE", "exit");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_tool({"--format", "e4m3", "--profile", "ml_dtypes", "--in-process"}), testing::ExitedWithCode(1),
              "the plugin ended the process \\(exit\\) during fp8_encode_f16 while running the e4m3 ml_dtypes checks");
  // In a child process: that group's failed check.
  const std::vector<Check> checks = conform(quick({"e4m3"}, {"ml_dtypes"}));
  const Check* c = find(checks, "e4m3", "plugin crashed");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "plugin crashed (exit status 0)");
  EXPECT_TRUE(c->failed());
}

TEST(PluginDefences, ACrashOrAHangWhileLoadingIsAnErrorNotTheEndOfLowbit) {
  SKIP_WITHOUT_FORK();
  // The library's constructor runs at its first load only: in a fresh process (the threadsafe death
  // test re-runs this binary), before this test loads it.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  {
    const ScopedEnv crash("LOWBIT_MISBEHAVE", "crash-load");
    EXPECT_EXIT(std::exit(run_tool({"--format", "e4m3"})), testing::ExitedWithCode(2),
                "plugin crashed while loading \\(signal 11");
  }
  {
    const ScopedEnv crash("LOWBIT_MISBEHAVE", "crash-descriptor");
    const std::string e = error_of([] { conform(quick({"e4m3"}, {"ml_dtypes"})); });
    EXPECT_NE(e.find(std::string(kPlugin) + ": plugin crashed while loading (signal 11"), std::string::npos) << e;
    EXPECT_EQ(run_tool({"--format", "e4m3"}), 2);
  }
  const ScopedEnv hang("LOWBIT_MISBEHAVE", "hang-descriptor");
  const std::string e = error_of([] { conform(quick({"e4m3"}, {"ml_dtypes"})); });
  EXPECT_NE(e.find(std::string(kPlugin) + ": plugin did not finish loading within 2 s"), std::string::npos) << e;
}

TEST(PluginDefences, TheTimeoutOptionIsCheckedAndAppliesToPluginRuns) {
  EXPECT_EQ(run_tool({"--format", "e4m3fn", "--profile", "ml_dtypes-sat"}), 0);
  EXPECT_EQ(lowbit::cli::run({"conform", "--format", "gse", "--timeout", "2"}), 2);  // no plugin
  for (const char* bad : {"0", "-1", "x", "nan"})
    EXPECT_EQ(lowbit::cli::run({"conform", "--plugin", kPlugin, "--format", "gse", "--timeout", bad}), 2) << bad;
}

#else
TEST(PluginDefences, NotBuilt) { GTEST_SKIP() << "conformance/plugins is not part of this build"; }
#endif

}  // namespace
