// The OCP MX block formats as microxcaling's C++ path computes them: blocks of 32 elements share
// an E8M0 scale 2^X. MXINT8 is the GSE format mxint8_format() (gse.hpp); the others have
// minifloat elements. docs/formats/mx.md is the prose version of this file.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/binary_float.hpp"

namespace lowbit {

enum class MxFormat : std::uint8_t { int8, fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1 };

struct MxTraits {
  std::string_view name;
  MxFormat format;
  BinaryLayout element;   // minifloat elements (unused for int8)
  std::uint8_t max_code;  // largest finite magnitude code (int8: 127)
  int emax;               // exponent of the largest element binade (int8: 0)
};

inline constexpr int kMxBlock = 32;
inline constexpr std::uint8_t kE8m0Nan = 0xFF;

inline constexpr std::array kMxFormats{
    MxTraits{"mxint8", MxFormat::int8, {0, 0}, 127, 0},
    MxTraits{"mxfp8-e4m3", MxFormat::fp8_e4m3, {4, 3}, 0x7E, 8},
    MxTraits{"mxfp8-e5m2", MxFormat::fp8_e5m2, {5, 2}, 0x7B, 15},
    MxTraits{"mxfp6-e3m2", MxFormat::fp6_e3m2, {3, 2}, 0x1F, 4},
    MxTraits{"mxfp6-e2m3", MxFormat::fp6_e2m3, {2, 3}, 0x1F, 2},
    MxTraits{"mxfp4-e2m1", MxFormat::fp4_e2m1, {2, 1}, 0x07, 2},
};

constexpr const MxTraits& traits(MxFormat f) { return kMxFormats[static_cast<std::size_t>(f)]; }

constexpr std::optional<MxFormat> parse_mx_format(std::string_view s) {
  for (const MxTraits& t : kMxFormats)
    if (t.name == s) return t.format;
  return std::nullopt;
}

// The sign bit of an element code: the top bit of its width (0x80, 0x20 for FP6, 0x08 for FP4).
constexpr std::uint8_t mx_sign_bit(const MxTraits& t) {
  return t.format == MxFormat::int8 ? 0x80 : static_cast<std::uint8_t>(1u << (t.element.total_bits() - 1));
}

}  // namespace lowbit
