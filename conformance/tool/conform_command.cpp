#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "conform.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "options.hpp"

namespace lowbit::cli {
namespace {

using conformance::Check;

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The suite a --format name selects and its own name for that format, or nullptr.
const Suite* suite_of(std::string_view name, std::string& canonical) {
  for (const Suite& s : registry().suites()) {
    if (contains(s.formats, name)) return canonical = name, &s;
    for (const auto& [alias, target] : s.aliases)
      if (alias == name) return canonical = target, &s;
  }
  return nullptr;
}

std::vector<std::string> all_formats(bool plugin) {
  std::vector<std::string> out;
  for (const Suite& s : registry().suites())
    for (const std::string& f : plugin ? s.plugin_formats : s.formats) out.push_back(f);
  return out;
}

void check_scope(const ConformRequest& r) {
  std::vector<std::string> profiles, isas;
  for (const Suite& s : registry().suites()) profiles.insert(profiles.end(), s.profiles.begin(), s.profiles.end());
  for (const std::string& p : r.run.profiles)
    if (!contains(profiles, p)) throw UsageError(fmt::format("unknown profile '{}' (valid: {})", p, join(profiles)));
  if (!r.plugin.empty() && !r.run.impls.empty())
    throw UsageError("--impl names lowbit's implementations: it does not apply with --plugin");
  for (const kernels::Row& row : kernels::rows())
    if (!contains(isas, row.isa)) isas.emplace_back(row.isa);
  for (const std::string& i : r.run.impls) {
    if (!contains(isas, i)) throw UsageError(fmt::format("unknown implementation '{}' (valid: {})", i, join(isas)));
    const auto rows = kernels::rows();
    if (std::none_of(rows.begin(), rows.end(), [&](const kernels::Row& row) { return row.isa == i && row.available; }))
      throw UsageError(fmt::format("implementation '{}' does not run on this CPU", i));
  }
  if (r.run.level == conformance::Level::boundary)
    throw UsageError("conform runs at --level quick or full (boundary, the structured cases alone, is a level of gen)");
}

// Does the suite run in this scope? A run given --profile checks only those profiles.
bool in_profile_scope(const Suite& s, const SuiteRun& run) {
  if (run.profiles.empty()) return true;
  return std::any_of(s.profiles.begin(), s.profiles.end(), [&](const std::string& p) { return run.has_profile(p); });
}

}  // namespace

std::vector<Check> conform_checks(const ConformRequest& r) {
  check_scope(r);
  // The suites named, each with its formats (all of them when no --format is given).
  std::vector<std::pair<const Suite*, std::vector<std::string>>> plan;
  for (const std::string& name : r.formats) {
    std::string canonical;
    const Suite* s = suite_of(name, canonical);
    if (!s) throw UsageError(fmt::format("unknown format '{}' (valid: {})", name, join(all_formats(false))));
    if (!r.plugin.empty() && !contains(s->plugin_formats, canonical))
      throw UsageError(fmt::format("no vendor function checks {} (plugin formats: {})", name, join(all_formats(true))));
    auto it = std::find_if(plan.begin(), plan.end(), [&](const auto& p) { return p.first == s; });
    if (it == plan.end()) it = plan.insert(plan.end(), {s, {}});
    if (!contains(it->second, canonical)) it->second.push_back(canonical);
  }
  const std::unique_ptr<conformance::Plugin> plugin =
      r.plugin.empty() ? nullptr : std::make_unique<conformance::Plugin>(conformance::load_plugin(r.plugin, r.run.isolate, r.run.timeout));
  if (r.formats.empty())
    for (const Suite& s : registry().suites())
      if (!plugin || s.in_plugin(*plugin)) plan.push_back({&s, {}});
  std::vector<Check> checks;
  for (const auto& [suite, formats] : plan) {
    SuiteRun run = r.run;
    run.formats = formats;
    if (!in_profile_scope(*suite, run)) continue;
    std::vector<Check> c;
    if (!plugin) {
      c = suite->run(run);
      conformance::time_checks(c, std::chrono::steady_clock::now());
    } else if (!formats.empty() && !suite->in_plugin(*plugin)) {
      for (const std::string& f : formats)
        c.push_back(conformance::not_implemented(*plugin, {f, "all"}, "the plugin has no function of this format"));
    } else {
      c = suite->run_plugin(*plugin, run);
    }
    checks.insert(checks.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end()));
  }
  if (checks.empty())
    throw UsageError(plugin ? "nothing to check: the plugin implements no function of the formats and profiles asked for"
                            : "nothing to check: no suite has the formats and profiles asked for");
  return checks;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"conform", "", {}, "", [](CLI::App& c) -> Action {
    struct Flags {
      ConformRequest request;
      std::string level, plugin;
      std::vector<std::string> roundings;
      unsigned threads = 0;
      bool verbose = false, json = false, in_process = false;
      double timeout = 0;
      std::string golden;
    };
    auto f = std::make_shared<Flags>();
    add_choice(c, "--level", f->level, {"quick", "full", "boundary"},
               "quick: every check on structured and seeded random cases; full: adds the exhaustive inputs (all 2^32 f32 for "
               "the minifloats); boundary is refused (the structured cases alone are a level of gen)");
    c.add_option("--format", f->request.formats, "the formats to check (default: all; with --plugin: those it implements)");
    c.add_option("--plugin", f->request.plugin, "a vendor plugin .so (docs/vendor-abi.md): run the suites on its functions");
    c.add_option("--impl", f->request.run.impls, "lowbit's implementations to check (default: all this CPU runs)");
    c.add_option("--profile", f->request.run.profiles, "only the checks of these profiles (lowbit list; default: all)");
    c.add_option("--rounding", f->roundings, "only encode checks of these roundings (rne, rna, rtz, sr; the minifloats also rtp, rtn, rta, rto; default: all)")
        ->check(CLI::IsMember(kMinifloatRoundingNames));
    c.add_option("--golden", f->golden, "golden-data folder (default: the copy in the source tree, or $LOWBIT_GOLDEN)");
    c.add_option("--errors", f->request.run.max_errors, "mismatches listed per check (default 8)");
    c.add_option("--threads", f->threads, "threads for the f32 sweeps (default: all cores)");
    c.add_option("--seed", f->request.run.seed, "seed of the random cases (default 1)");
    c.add_flag("--in-process", f->in_process,
               "with --plugin: run every group in this process, not in a child (a crash ends the run, a call that times "
               "out or exits ends it failed; for debuggers and qemu-user)");
    c.add_option("--timeout", f->timeout,
                 fmt::format("with --plugin: seconds a plugin call may run before its group fails 'timed out' (default {:g})",
                             conformance::kCallTimeout))
        ->check(CLI::Validator(
            [](std::string& s) {
              char* end = nullptr;
              const double v = std::strtod(s.c_str(), &end);  // CLI::PositiveNumber lets nan through
              return end != s.c_str() && *end == '\0' && std::isfinite(v) && v > 0 ? std::string()
                                                                                 : "not a positive number of seconds: " + s;
            },
            "SECONDS"));
    c.add_flag("-v,--verbose", f->verbose, "one row per check, not only per format and profile");
    c.add_flag("--json", f->json, "one JSON object (every check and the summary) instead of the table");
    return [f] {
      ConformRequest r = f->request;
      r.run.level = *conformance::parse_level(f->level);
      r.run.threads = f->threads ? f->threads : conformance::default_threads();
      r.run.isolate = !f->in_process;
      if (f->timeout > 0) r.run.timeout = f->timeout;
      if (!f->golden.empty()) r.run.golden = conformance::GoldenDir(f->golden);
      if (!f->roundings.empty()) r.run.roundings.clear();
      for (const std::string& name : f->roundings) r.run.roundings.push_back(rounding(name));
      if (f->in_process && r.plugin.empty()) throw UsageError("--in-process applies to --plugin runs");
      if (f->timeout > 0 && r.plugin.empty()) throw UsageError("--timeout applies to --plugin runs");
      const std::vector<Check> checks = conform_checks(r);
      if (f->json) fmt::print("{}", conformance::report_json(checks));
      else conformance::print_report(stdout, checks, f->verbose);
      std::fflush(stdout);
      return conformance::any_failed(checks) ? kMismatch : kSuccess;
    };
  }});
}

const Registration registration("conform", define);

}  // namespace
}  // namespace lowbit::cli
