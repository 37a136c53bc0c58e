#include "lowbit/conformance/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "lowbit/conformance/json_text.hpp"

namespace lowbit::conformance {
namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // impl, format, profile

struct Group {
  std::size_t checks = 0, failed = 0, not_supported = 0;
  std::uint64_t cases = 0, errors = 0;
  double seconds = 0;

  std::string result() const {
    if (failed) return fmt::format("FAIL ({} checks)", failed);
    if (not_supported == checks) return "not supported";
    return not_supported ? fmt::format("ok, {} not supported", not_supported) : "ok";
  }
};

// The (implementation, format, profile) groups in order of first appearance.
std::vector<std::pair<Key, Group>> summarize(const std::vector<Check>& checks) {
  std::vector<std::pair<Key, Group>> groups;
  std::map<Key, std::size_t> index;
  for (const Check& c : checks) {
    const Key key(c.impl, c.format, c.profile);
    const auto [it, added] = index.try_emplace(key, groups.size());
    if (added) groups.push_back({key, {}});
    Group& g = groups[it->second].second;
    ++g.checks;
    g.failed += c.failed();
    g.not_supported += !c.supported();
    g.cases += c.cases;
    g.errors += c.errors;
    g.seconds += c.seconds;
  }
  return groups;
}

const char* status(const Check& c) { return !c.supported() ? "not supported" : c.passed() ? "passed" : "failed"; }

struct Totals {
  std::size_t passed = 0, failed = 0, not_supported = 0;
};
Totals totals(const std::vector<Check>& checks) {
  Totals t;
  for (const Check& c : checks) (c.passed() ? t.passed : c.failed() ? t.failed : t.not_supported)++;
  return t;
}

// Column widths: the header's, or the longest entry's (a vendor may call itself anything).
struct Widths {
  std::size_t impl = 4, format = 3, profile = 7, name = 5;
  explicit Widths(const std::vector<Check>& checks) {
    for (const Check& c : checks) {
      impl = std::max(impl, c.impl.size());
      format = std::max(format, c.format.size());
      profile = std::max(profile, c.profile.size());
      name = std::max(name, c.name.size());
    }
  }
};

}  // namespace

bool any_failed(const std::vector<Check>& checks) {
  return std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.failed(); });
}

void time_checks(std::vector<Check>& checks, std::chrono::steady_clock::time_point end) {
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto stop = i + 1 < checks.size() ? checks[i + 1].created : end;
    checks[i].seconds = std::chrono::duration<double>(stop - checks[i].created).count();
  }
}

std::string report_json(const std::vector<Check>& checks) {
  nlohmann::json j;
  j["checks"] = nlohmann::json::array();
  for (const Check& c : checks) {
    nlohmann::json o = {{"impl", c.impl},     {"format", c.format}, {"profile", c.profile},   {"name", c.name},
                        {"status", status(c)}, {"cases", c.cases},   {"errors", c.errors},     {"seconds", c.seconds},
                        {"passed", c.passed()}, {"first_errors", c.first_errors}};
    if (!c.supported()) o["not_supported"] = c.not_supported;
    j["checks"].push_back(std::move(o));
  }
  j["summary"] = nlohmann::json::array();
  for (const auto& [key, g] : summarize(checks))
    j["summary"].push_back({{"impl", std::get<0>(key)}, {"format", std::get<1>(key)}, {"profile", std::get<2>(key)},
                            {"checks", g.checks}, {"cases", g.cases}, {"errors", g.errors},
                            {"not_supported", g.not_supported}, {"seconds", g.seconds}, {"passed", g.failed == 0}});
  const Totals t = totals(checks);
  j["passed"] = t.passed;
  j["failed"] = t.failed;
  j["not_supported"] = t.not_supported;
  return json_text(j, 2) + "\n";
}

void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose) {
  const Widths w(checks);
  if (verbose) {
    fmt::print(out, "{:<{}} {:<{}} {:<{}} {:<{}} {:>12} {:>8} {:>9}  {}\n", "impl", w.impl, "fmt", w.format, "profile",
               w.profile, "check", w.name, "cases", "errors", "seconds", "result");
    for (const Check& c : checks)
      fmt::print(out, "{:<{}} {:<{}} {:<{}} {:<{}} {:>12} {:>8} {:>9.3f}  {}\n", c.impl, w.impl, c.format, w.format,
                 c.profile, w.profile, c.name, w.name, c.cases, c.errors, c.seconds,
                 c.passed() ? "ok" : c.failed() ? "FAIL" : "not supported");
    fmt::print(out, "\n");
  }
  fmt::print(out, "{:<{}} {:<{}} {:<{}} {:>7} {:>14} {:>10} {:>9}  {}\n", "impl", w.impl, "fmt", w.format, "profile",
             w.profile, "checks", "cases", "errors", "seconds", "result");
  for (const auto& [key, g] : summarize(checks))
    fmt::print(out, "{:<{}} {:<{}} {:<{}} {:>7} {:>14} {:>10} {:>9.2f}  {}\n", std::get<0>(key), w.impl,
               std::get<1>(key), w.format, std::get<2>(key), w.profile, g.checks, g.cases, g.errors, g.seconds, g.result());
  for (const Check& c : checks) {
    if (!c.failed()) continue;
    fmt::print(out, "\nErrors found in {} {} {}, {}:\n", c.impl, c.format, c.profile, c.name);
    if (c.cases == 0) fmt::print(out, "  no cases were run\n");
    for (const std::string& e : c.first_errors) fmt::print(out, "  {}\n", e);
    if (c.errors > c.first_errors.size())
      fmt::print(out, "  ... {} errors in {} cases\n", c.errors, c.cases);
  }
  const Totals t = totals(checks);
  if (t.not_supported) {
    fmt::print(out, "\nNot supported by the implementation (not failures; not run further){}:\n", verbose ? "" : "; -v lists every check");
    for (const auto& [key, g] : summarize(checks)) {
      if (!g.not_supported) continue;
      const std::string& impl = std::get<0>(key);  // not a structured binding: clang 14 cannot capture one
      const std::string& format = std::get<1>(key);
      const std::string& profile = std::get<2>(key);
      const auto first = std::find_if(checks.begin(), checks.end(), [&](const Check& c) {
        return !c.supported() && c.impl == impl && c.format == format && c.profile == profile;
      });
      if (!verbose) {
        fmt::print(out, "  {} {} {}: {} of {} checks, e.g. {}: {}\n", impl, format, profile, g.not_supported, g.checks, first->name,
                   first->not_supported);
        continue;
      }
      for (auto c = first; c != checks.end(); ++c)
        if (!c->supported() && c->impl == impl && c->format == format && c->profile == profile)
          fmt::print(out, "  {} {} {}, {}: {}\n", impl, format, profile, c->name, c->not_supported);
    }
  }
  fmt::print(out, "\n{} passed, {} failed, {} not supported\n", t.passed, t.failed, t.not_supported);
}

}  // namespace lowbit::conformance
