// GSE-INT (group-shared-exponent integers, GSQ-Tuning) and its relative MXINT8: a group of N
// values shares one power-of-two exponent; each element is a b-bit two's-complement integer
// mantissa with no implicit leading 1. docs/formats/gse.md is the prose version of this file.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "lowbit/formats/rounding.hpp"
#include "lowbit/formats/sizes.hpp"

namespace lowbit {

// What happens when the group maximum rounds up to 2^(b-1), one past the largest mantissa.
enum class MantissaOverflow : std::uint8_t {
  saturate,  // that element becomes 2^(b-1) - 1 (as MX)
  bump,      // the group's exponent goes up by one and the group is rounded again
};

// What happens when a group's exponent is above the field's range (its maximum is too large).
enum class ExponentOverflow : std::uint8_t {
  saturate,  // the largest exponent; mantissas saturate to +-(2^(b-1) - 1)
  nan,       // the group is NaN
};

struct GseFormat {
  int bits = 8;          // b, sign included: 4..8
  int group = 32;        // N: 16, 32, 64, 128 or 256
  int exp_bits = 5;      // 5 (GSE) or 8 (E8M0, as MX)
  int exp_bias = 15;     // field = exponent + bias - offset
  int exp_offset = 0;    // a per-tensor power of two added to every group's exponent
  MantissaOverflow mantissa_overflow = MantissaOverflow::saturate;
  ExponentOverflow exponent_overflow = ExponentOverflow::saturate;

  constexpr int max_mantissa() const { return (1 << (bits - 1)) - 1; }
  constexpr unsigned nan_field() const { return (1u << exp_bits) - 1; }  // all ones: a NaN group
  constexpr int emin() const { return exp_offset - exp_bias; }           // field 0
  constexpr int emax() const { return static_cast<int>(nan_field()) - 1 - exp_bias + exp_offset; }
  constexpr double bits_per_value() const { return (group * bits + exp_bits) / static_cast<double>(group); }
  constexpr std::size_t groups(std::size_t n) const { return ceil_div(n, static_cast<std::size_t>(group)); }
};

inline constexpr std::array kGseGroupSizes{16, 32, 64, 128, 256};

// OCP MXINT8 (microxcaling): 32 int8 elements k/64 with an E8M0 scale; use with Rounding::rna.
constexpr GseFormat mxint8_format() {
  return {8, 32, 8, 127, 0, MantissaOverflow::saturate, ExponentOverflow::nan};
}

// A message naming the first invalid parameter, or nothing.
inline std::optional<std::string> validate(const GseFormat& f) {
  if (f.bits < 4 || f.bits > 8) return "bits must be 4..8, got " + std::to_string(f.bits);
  bool group_ok = false;
  for (int g : kGseGroupSizes) group_ok |= g == f.group;
  if (!group_ok) return "group must be 16, 32, 64, 128 or 256, got " + std::to_string(f.group);
  if (f.exp_bits != 5 && f.exp_bits != 8) return "exp-bits must be 5 or 8, got " + std::to_string(f.exp_bits);
  if (f.exp_bias < 0 || f.exp_bias > static_cast<int>(f.nan_field()) - 1)
    return "exp-bias must be 0.." + std::to_string(f.nan_field() - 1) + " for " + std::to_string(f.exp_bits) +
           " exponent bits, got " + std::to_string(f.exp_bias);
  if (f.exp_offset < -100 || f.exp_offset > 100) return "exp-offset must be -100..100, got " + std::to_string(f.exp_offset);
  return std::nullopt;
}

}  // namespace lowbit
