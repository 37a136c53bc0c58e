// Rounding modes shared by every codec. Each codec's page says which it supports.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lowbit {

enum class Rounding : std::uint8_t {
  rne,  // to nearest, ties to even
  rna,  // to nearest, ties away from zero (microxcaling's 'nearest')
  rtz,  // toward zero (IEEE: a finite overflow gives the largest finite value)
  sr,   // stochastic: 32 random bits added below the rounding position (docs/formats/fp8.md)
};
inline constexpr std::array kRoundings{Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr};

constexpr std::string_view name(Rounding r) {
  switch (r) {
    case Rounding::rne: return "rne";
    case Rounding::rna: return "rna";
    case Rounding::rtz: return "rtz";
    case Rounding::sr: return "sr";
  }
  return "?";
}

// lowbit's names, and microxcaling's words for the MX formats: nearest, even, floor.
constexpr std::optional<Rounding> parse_rounding(std::string_view s) {
  for (Rounding r : kRoundings)
    if (name(r) == s) return r;
  if (s == "nearest") return Rounding::rna;
  if (s == "even") return Rounding::rne;
  if (s == "floor") return Rounding::rtz;
  return std::nullopt;
}

}  // namespace lowbit
