// What the tests of conformance/plugins share: a small `conform --plugin` run, the checks by name, and
// whether fork() works here.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "conform.hpp"
#include "lowbit/conformance/plugin.hpp"

namespace plugin_test {

using namespace lowbit::conformance;
using lowbit::cli::ConformRequest;

// qemu-user 7.2 (Debian 12) hangs the forked child of a dynamically linked program right after
// fork(), before it runs any code of ours: under emulation (the arm64 tests) the suites run
// in-process and the tests of crash isolation are skipped; natively everything runs isolated.
#ifdef LOWBIT_TESTS_EMULATED
constexpr bool kForkWorks = false;
#else
constexpr bool kForkWorks = true;
#endif
#define SKIP_WITHOUT_FORK() \
  if (!kForkWorks) GTEST_SKIP() << "fork() hangs under qemu-user; crash isolation is tested natively"

// `lowbit conform --plugin PATH [--format F...] [--profile P...]`, with smaller samples.
inline ConformRequest small(const char* plugin, std::vector<std::string> formats = {}, std::vector<std::string> profiles = {}) {
  ConformRequest r;
  r.plugin = plugin;
  r.formats = std::move(formats);
  r.run.profiles = std::move(profiles);
  r.run.isolate = kForkWorks;
  r.run.random_cases = 1 << 12;
  r.run.groups = 200;  // the block suites' random groups (conform: 2000); cheap under qemu too
  return r;
}
inline std::vector<Check> conform(const ConformRequest& r) { return lowbit::cli::conform_checks(r); }

// Sets an environment variable for one scope (the plugin reads it in the child processes).
struct ScopedEnv {
  const char* name;
  ScopedEnv(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~ScopedEnv() { unsetenv(name); }
};

inline std::string describe(const Check& c) {
  return c.impl + " " + c.format + " " + c.profile + " " + c.name + ": " + std::to_string(c.errors) + " errors" +
         (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
}

inline const Check* find(const std::vector<Check>& checks, const std::string& format, const std::string& name_part) {
  for (const Check& c : checks)
    if (c.format == format && c.name.find(name_part) != std::string::npos) return &c;
  return nullptr;
}

// The message of the PluginError f() throws.
template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace plugin_test
