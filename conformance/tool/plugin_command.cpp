#include "plugin_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include "lowbit/conformance/sweep.hpp"

#include "lowbit/conformance/plugin.hpp"
#include "lowbit/formats/mx.hpp"
#include "stream.hpp"

namespace lowbit::cli {

int run_verify_plugin(const PluginArgs& a) {
  using namespace conformance;
  if (a.level != "quick" && a.level != "full") throw UsageError(fmt::format("unknown --level '{}' (valid: quick, full)", a.level));
  PluginSuiteOptions o;
  o.level = a.level == "full" ? Level::full : Level::quick;
  o.threads = a.threads ? a.threads : default_threads();
  o.max_errors = a.errors;
  o.seed = a.seed;
  o.isolate = a.isolate;
  for (const std::string& s : a.formats) {
    // Aliases name the suite that checks them: the MX suite covers every MX format, NF4's both tables.
    const std::string f = s == "e4m3fn" ? "e4m3" : s == "fp4" ? "nf4" : mx::parse_format(s) ? "mx" : s;
    if (f != "e4m3" && f != "e5m2" && f != "gse" && f != "gse-gemm" && f != "mx" && f != "nf4" && f != "qeft")
      throw UsageError(fmt::format("unknown plugin format '{}' (valid: e4m3, e4m3fn, e5m2, gse, gse-gemm, mx, mxint8, mxfp8-e4m3, ..., nf4, fp4, qeft)", s));
    if (std::find(o.formats.begin(), o.formats.end(), f) == o.formats.end()) o.formats.push_back(f);
  }
  for (const std::string& s : a.profiles)
    if (!fp8::find_profile(s)) throw UsageError(fmt::format("unknown profile '{}'", s));
  o.profiles = a.profiles;
  const Plugin plugin(a.path);
  const GoldenDir golden = a.golden.empty() ? GoldenDir::from_env() : GoldenDir(a.golden);
  const std::vector<Check> checks = run_plugin_suites(plugin, golden, o);
  if (a.json) fmt::print("{}", report_json(checks));
  else print_report(stdout, checks, a.verbose);
  std::fflush(stdout);
  for (const Check& c : checks)
    if (c.failed()) return 1;
  return checks.empty() ? 1 : 0;
}

}  // namespace lowbit::cli
