// Results of conformance checks and their TestFloat-style report.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace lowbit::conformance {

struct Check {
  std::string impl, format, profile, name;
  std::uint64_t cases = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> first_errors;  // "operand => got X expected Y", at most max_errors

  bool passed() const { return cases > 0 && errors == 0; }  // a check that ran nothing fails
  void mismatch(std::string line, std::size_t max_errors) {
    if (errors++ < max_errors) first_errors.push_back(std::move(line));
  }
};

// Prints a summary row per (implementation, format, profile) — with `verbose` first one row per
// check — then the first errors of each failed check, and "N passed, M failed" (checks).
void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose);

}  // namespace lowbit::conformance
