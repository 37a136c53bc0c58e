// Vendor plugins (lowbit/vendor.h): load a shared library, check its ABI version, and run the
// conformance suites on its functions: the same checks as `lowbit conform`, each suite group in a
// child process so that a crashing plugin is reported rather than fatal.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowbit/conformance/fp8_suite.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/vendor.h"

namespace lowbit::conformance {

// A library that cannot be loaded, lacks the symbol, or has another ABI version.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A loaded plugin; the library stays loaded for the object's lifetime.
class Plugin {
 public:
  explicit Plugin(const std::string& path);  // dlopen + dlsym + version check; throws PluginError
  Plugin(Plugin&& o) noexcept;
  Plugin& operator=(Plugin&&) = delete;
  Plugin(const Plugin&) = delete;
  ~Plugin();

  const lowbit_vendor_descriptor& descriptor() const { return *descriptor_; }
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // Formats ("e4m3", "e5m2", "gse", "gse-gemm", "mx", "nf4", "qeft") the plugin has at least one function for.
  std::vector<std::string> formats() const;

 private:
  std::string path_, name_;
  void* handle_ = nullptr;
  const lowbit_vendor_descriptor* descriptor_ = nullptr;
};

struct PluginSuiteOptions {
  Level level = Level::quick;  // full: FP8 adds all 2^32 f32 inputs
  std::vector<std::string> formats;  // "e4m3", "e5m2", "gse", "gse-gemm", "mx", "nf4", "qeft"; empty = all it has
  std::vector<std::string> profiles; // FP8 profiles; empty = all
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;
  unsigned threads = 1;
  std::size_t random_cases = 1 << 18;  // FP8
  int groups = 2000;  // random groups per check of the block suites (GSE, MX, NF4, QEFT), as conform
  bool isolate = true;  // run each group (FP8 format and profile; GSE; GSE GEMM; MX; NF4; QEFT) in a fork()ed child
};

// Every check of the suites over the plugin. Checks of operations the plugin leaves NULL are left
// out; a requested format it has no function for is one failed check. Each group ends with a check
// "plugin status codes" (one case per call, one error per non-zero return); a child that dies gives
// the failed check "plugin crashed (signal N)" (or "(exit status N)"). Throws std::invalid_argument
// for an unknown format or profile name.
std::vector<Check> run_plugin_suites(const Plugin& plugin, const GoldenDir& golden, const PluginSuiteOptions& o);

}  // namespace lowbit::conformance
