// Block-level status of an encode: what IEEE flags are for a scalar format, for the formats whose
// elements share a scale (GSE-INT, MX).
#pragma once
#include <cstdint>

namespace lowbit {

struct BlockStats {
  std::uint64_t groups = 0;
  std::uint64_t nan_groups = 0;      // NaN or Inf input, or exponent overflow with gse::ExponentOverflow::nan
  std::uint64_t exp_underflow = 0;   // non-zero maximum below 2^emin: exponent clamped up
  std::uint64_t exp_overflow = 0;    // maximum at or above 2^(emax+1): clamped down (or NaN)
  std::uint64_t bumped = 0;          // groups whose exponent went up (gse::MantissaOverflow::bump)
  std::uint64_t saturated = 0;       // elements set to +-(2^(b-1) - 1) because they did not fit

  BlockStats& operator+=(const BlockStats& o) {
    groups += o.groups;
    nan_groups += o.nan_groups;
    exp_underflow += o.exp_underflow;
    exp_overflow += o.exp_overflow;
    bumped += o.bumped;
    saturated += o.saturated;
    return *this;
  }
  bool operator==(const BlockStats&) const = default;
};

}  // namespace lowbit
