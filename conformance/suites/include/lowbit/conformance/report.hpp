// Results of conformance checks and their TestFloat-style report.
#pragma once
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace lowbit::conformance {

// Thrown by an implementation under test (a vendor plugin's adapter) when it does not provide the
// option combination a check asks for: run_check reports that check "not supported".
class NotSupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Check {
  Check() = default;
  Check(std::string impl_name, std::string format_name, std::string profile_name, std::string check_name)
      : impl(std::move(impl_name)), format(std::move(format_name)), profile(std::move(profile_name)), name(std::move(check_name)) {}

  std::string impl, format, profile, name;
  std::uint64_t cases = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> first_errors;  // "operand => got X expected Y", at most max_errors
  // When the check was made (suites make each check just before running it) and how long it ran
  // (set by time_checks).
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  double seconds = 0;
  // Why the implementation does not provide this check's options (the call and its status); empty
  // when it does. A check not supported is neither passed nor failed: it is listed and counted apart.
  std::string not_supported;

  bool supported() const { return not_supported.empty(); }
  bool passed() const { return supported() && cases > 0 && errors == 0; }  // a check that ran nothing fails
  bool failed() const { return supported() && !passed(); }
  void mismatch(std::string line, std::size_t max_errors) {
    if (errors++ < max_errors) first_errors.push_back(std::move(line));
  }
};

// The check runner of every suite: appends `header` to `out` and runs body(check) on it. A body that
// throws NotSupported stops the check, which is then "not supported": its counts are dropped and the
// reason kept. The body must not append to `out`.
template <class Body> void run_check(std::vector<Check>& out, Check header, Body&& body) {
  out.push_back(std::move(header));
  try {
    body(out.back());
  } catch (const NotSupported& e) {
    Check& c = out.back();
    c.cases = c.errors = 0;
    c.first_errors.clear();
    c.not_supported = e.what();
  }
}

// Whether any check failed (not supported is no failure).
bool any_failed(const std::vector<Check>& checks);

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

// One JSON object: {"checks": [{impl, format, profile, name, status ("passed", "failed" or "not
// supported"), cases, errors, seconds, passed, first_errors[, not_supported: the reason]}], "summary":
// [{impl, format, profile, checks, cases, errors, not_supported, seconds, passed}], "passed": N,
// "failed": M, "not_supported": K}.
std::string report_json(const std::vector<Check>& checks);

// Prints a summary row per (implementation, format, profile) — with `verbose` first one row per
// check — in columns as wide as their longest entry, then the first errors of each failed check, the
// checks not supported with their reasons, and "N passed, M failed, K not supported" (checks).
void print_report(std::FILE* out, const std::vector<Check>& checks, bool verbose);

}  // namespace lowbit::conformance
