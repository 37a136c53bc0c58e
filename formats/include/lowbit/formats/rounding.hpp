// Rounding modes shared by every codec. Each codec's page says which it supports.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lowbit {

// The order is the C ABI's (LOWBIT_ROUND_*): append only.
enum class Rounding : std::uint8_t {
  rne,  // to nearest, ties to even
  rna,  // to nearest, ties away from zero (microxcaling's 'nearest')
  rtz,  // toward zero (IEEE: a finite overflow gives the largest finite value)
  sr,   // stochastic: 32 random bits added below the rounding position (docs/formats/fp8.md)
  rtp,  // toward +Inf (IEEE roundTowardPositive)
  rtn,  // toward -Inf (IEEE roundTowardNegative)
  rta,  // away from zero (P3109 TowardMaxMagnitude)
  rto,  // to odd: truncate, then an inexact result takes the odd code (P3109 ToOdd)
};
// Every codec's roundings.
inline constexpr std::array kRoundings{Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr};
// The minifloat family's (fp8::): the four, the directed roundings and round-to-odd.
inline constexpr std::array kMinifloatRoundings{Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr,
                                                Rounding::rtp, Rounding::rtn, Rounding::rta, Rounding::rto};

constexpr std::string_view name(Rounding r) {
  switch (r) {
    case Rounding::rne: return "rne";
    case Rounding::rna: return "rna";
    case Rounding::rtz: return "rtz";
    case Rounding::sr: return "sr";
    case Rounding::rtp: return "rtp";
    case Rounding::rtn: return "rtn";
    case Rounding::rta: return "rta";
    case Rounding::rto: return "rto";
  }
  return "?";
}

// lowbit's names, and microxcaling's words for the MX formats: nearest, even, floor.
constexpr std::optional<Rounding> parse_rounding(std::string_view s) {
  for (Rounding r : kMinifloatRoundings)
    if (name(r) == s) return r;
  if (s == "nearest") return Rounding::rna;
  if (s == "even") return Rounding::rne;
  if (s == "floor") return Rounding::rtz;
  return std::nullopt;
}

// The rounding of a magnitude: toward +-Inf is toward zero or away from it by the sign. Every other
// rounding is symmetric and stays as it is.
constexpr Rounding on_magnitude(Rounding r, bool negative) {
  if (r == Rounding::rtp) return negative ? Rounding::rtz : Rounding::rta;
  if (r == Rounding::rtn) return negative ? Rounding::rta : Rounding::rtz;
  return r;
}

}  // namespace lowbit
