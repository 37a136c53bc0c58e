#include "lowbit/conformance/report.hpp"

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace lowbit::conformance {

void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose) {
  if (verbose) {
    fmt::print(out, "{:<10} {:<10} {:<15} {:<56} {:>12} {:>8}  {}\n", "impl", "fmt", "profile", "check",
               "cases", "errors", "result");
    for (const Check& c : checks)
      fmt::print(out, "{:<10} {:<10} {:<15} {:<56} {:>12} {:>8}  {}\n", c.impl, c.format, c.profile,
                 c.name, c.cases, c.errors, c.passed() ? "ok" : "FAIL");
    fmt::print(out, "\n");
  }
  struct Group {
    std::size_t checks = 0, failed = 0;
    std::uint64_t cases = 0, errors = 0;
  };
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
  for (const Check& c : checks) {
    const auto key = std::tuple(c.impl, c.format, c.profile);
    if (!groups.contains(key)) order.push_back(key);
    Group& g = groups[key];
    ++g.checks;
    g.failed += !c.passed();
    g.cases += c.cases;
    g.errors += c.errors;
  }
  fmt::print(out, "{:<10} {:<10} {:<15} {:>7} {:>14} {:>10}  {}\n", "impl", "fmt", "profile", "checks",
             "cases", "errors", "result");
  for (const auto& key : order) {
    const Group& g = groups[key];
    fmt::print(out, "{:<10} {:<10} {:<15} {:>7} {:>14} {:>10}  {}\n", std::get<0>(key), std::get<1>(key),
               std::get<2>(key), g.checks, g.cases, g.errors,
               g.failed ? fmt::format("FAIL ({} checks)", g.failed) : "ok");
  }
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
