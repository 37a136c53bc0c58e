// Element and byte counts that cannot wrap: every count lowbit derives from a caller's sizes goes
// through these, so that a huge n gives a clear error (or the exact count), never a small wrapped
// count that a buffer check would then accept.
#pragma once
#include <cstddef>
#include <optional>

namespace lowbit {

// ceil(n / d) for d > 0, exact for every n (n + d - 1 would wrap near SIZE_MAX).
constexpr std::size_t ceil_div(std::size_t n, std::size_t d) { return n / d + (n % d != 0); }

// a * b, or nullopt when the product does not fit size_t.
constexpr std::optional<std::size_t> checked_mul(std::size_t a, std::size_t b) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace lowbit
