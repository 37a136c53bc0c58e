#include "lowbit/conformance/report.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

namespace lowbit::conformance {
namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // impl, format, profile

struct Group {
  std::size_t checks = 0, failed = 0;
  std::uint64_t cases = 0, errors = 0;
  double seconds = 0;
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
    g.failed += !c.passed();
    g.cases += c.cases;
    g.errors += c.errors;
    g.seconds += c.seconds;
  }
  return groups;
}

}  // namespace

void time_checks(std::vector<Check>& checks, std::chrono::steady_clock::time_point end) {
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto stop = i + 1 < checks.size() ? checks[i + 1].created : end;
    checks[i].seconds = std::chrono::duration<double>(stop - checks[i].created).count();
  }
}

std::string report_json(const std::vector<Check>& checks) {
  nlohmann::json j;
  j["checks"] = nlohmann::json::array();
  std::size_t passed = 0;
  for (const Check& c : checks) {
    passed += c.passed();
    j["checks"].push_back({{"impl", c.impl}, {"format", c.format}, {"profile", c.profile}, {"name", c.name},
                           {"cases", c.cases}, {"errors", c.errors}, {"seconds", c.seconds}, {"passed", c.passed()},
                           {"first_errors", c.first_errors}});
  }
  j["summary"] = nlohmann::json::array();
  for (const auto& [key, g] : summarize(checks))
    j["summary"].push_back({{"impl", std::get<0>(key)}, {"format", std::get<1>(key)}, {"profile", std::get<2>(key)},
                            {"checks", g.checks}, {"cases", g.cases}, {"errors", g.errors}, {"seconds", g.seconds},
                            {"passed", g.failed == 0}});
  j["passed"] = passed;
  j["failed"] = checks.size() - passed;
  return j.dump(2) + "\n";
}

void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose) {
  if (verbose) {
    fmt::print(out, "{:<10} {:<10} {:<15} {:<56} {:>12} {:>8} {:>9}  {}\n", "impl", "fmt", "profile", "check",
               "cases", "errors", "seconds", "result");
    for (const Check& c : checks)
      fmt::print(out, "{:<10} {:<10} {:<15} {:<56} {:>12} {:>8} {:>9.3f}  {}\n", c.impl, c.format, c.profile,
                 c.name, c.cases, c.errors, c.seconds, c.passed() ? "ok" : "FAIL");
    fmt::print(out, "\n");
  }
  fmt::print(out, "{:<10} {:<10} {:<15} {:>7} {:>14} {:>10} {:>9}  {}\n", "impl", "fmt", "profile", "checks",
             "cases", "errors", "seconds", "result");
  for (const auto& [key, g] : summarize(checks))
    fmt::print(out, "{:<10} {:<10} {:<15} {:>7} {:>14} {:>10} {:>9.2f}  {}\n", std::get<0>(key), std::get<1>(key),
               std::get<2>(key), g.checks, g.cases, g.errors, g.seconds,
               g.failed ? fmt::format("FAIL ({} checks)", g.failed) : "ok");
  std::size_t passed = 0;
  for (const Check& c : checks) {
    passed += c.passed();
    if (c.passed()) continue;
    fmt::print(out, "\nErrors found in {} {} {}, {}:\n", c.impl, c.format, c.profile, c.name);
    if (c.cases == 0) fmt::print(out, "  no cases were run\n");
    for (const std::string& e : c.first_errors) fmt::print(out, "  {}\n", e);
    if (c.errors > c.first_errors.size())
      fmt::print(out, "  ... {} errors in {} cases\n", c.errors, c.cases);
  }
  fmt::print(out, "\n{} passed, {} failed\n", passed, checks.size() - passed);
}

}  // namespace lowbit::conformance
