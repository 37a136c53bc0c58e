// Results of conformance checks and their TestFloat-style report.
#pragma once
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace lowbit::conformance {

struct Check {
  std::string impl, format, profile, name;
  std::uint64_t cases = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> first_errors;  // "operand => got X expected Y", at most max_errors
  // When the check was made (suites make each check just before running it) and how long it ran
  // (set by time_checks).
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  double seconds = 0;

  bool passed() const { return cases > 0 && errors == 0; }  // a check that ran nothing fails
  void mismatch(std::string line, std::size_t max_errors) {
    if (errors++ < max_errors) first_errors.push_back(std::move(line));
  }
};

// The bit pattern of a value (floats by their bits, integers as they are), for exact comparisons.
template <class T> std::uint64_t value_bits(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(x);
  else return static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(x));
}

// Adds want.size() cases to c and one mismatch per element whose bits differ ("what [i] => got
// expected"), or one for a size difference.
template <class A, class B>
void compare_bits(Check& c, const std::string& what, const std::vector<A>& got, const std::vector<B>& want,
                  std::size_t max_errors) {
  c.cases += want.size();
  if (got.size() != want.size())
    return c.mismatch(fmt::format("{}: {} values, expected {}", what, got.size(), want.size()), max_errors);
  for (std::size_t i = 0; i < got.size(); ++i)
    if (value_bits(got[i]) != value_bits(want[i]))
      c.mismatch(fmt::format("{} [{}] => 0x{:x} expected 0x{:x}", what, i, value_bits(got[i]), value_bits(want[i])), max_errors);
}

// Sets each check's seconds from the creation time of the next one (the last: until `end`).
void time_checks(std::vector<Check>& checks, std::chrono::steady_clock::time_point end);

// One JSON object: {"checks": [{impl, format, profile, name, cases, errors, seconds, passed,
// first_errors}], "summary": [{impl, format, profile, checks, cases, errors, seconds, passed}],
// "passed": N, "failed": M}.
std::string report_json(const std::vector<Check>& checks);

// Prints a summary row per (implementation, format, profile) — with `verbose` first one row per
// check — then the first errors of each failed check, and "N passed, M failed" (checks).
void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose);

}  // namespace lowbit::conformance
