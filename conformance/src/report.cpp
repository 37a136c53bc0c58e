#include "lowbit/conformance/report.hpp"

#include <fmt/format.h>

namespace lowbit::conformance {

void print_report(std::FILE* out, const std::vector<Check>& checks) {
  fmt::print(out, "{:<10} {:<5} {:<15} {:<52} {:>12} {:>8}  {}\n", "impl", "fmt", "profile", "check",
             "cases", "errors", "result");
  std::size_t passed = 0;
  for (const Check& c : checks) {
    passed += c.passed();
    fmt::print(out, "{:<10} {:<5} {:<15} {:<52} {:>12} {:>8}  {}\n", c.impl, c.format, c.profile,
               c.name, c.cases, c.errors, c.passed() ? "ok" : "FAIL");
  }
  for (const Check& c : checks) {
    if (c.passed()) continue;
    fmt::print(out, "\nErrors found in {} {} {} {}:\n", c.impl, c.format, c.profile, c.name);
    if (c.cases == 0) fmt::print(out, "  no cases were run\n");
    for (const std::string& e : c.first_errors) fmt::print(out, "  {}\n", e);
  }
  fmt::print(out, "\n{} passed, {} failed\n", passed, checks.size() - passed);
}

}  // namespace lowbit::conformance
