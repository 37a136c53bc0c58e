// The one level vocabulary of lowbit gen, lowbit conform and conform --plugin (README, "Levels";
// docs/conformance.md). quick is the default everywhere.
#pragma once
#include <array>
#include <optional>
#include <string_view>

namespace lowbit::conformance {

enum class Level {
  boundary,  // the structured boundary cases only (gen)
  quick,     // boundary + a seeded random sample: the default of gen and conform
  full,      // quick + the exhaustive inputs: all 2^32 f32 for the minifloats (conform)
};
inline constexpr std::array kLevels{Level::boundary, Level::quick, Level::full};

constexpr std::string_view name(Level l) {
  switch (l) {
    case Level::boundary: return "boundary";
    case Level::quick: return "quick";
    case Level::full: return "full";
  }
  return "?";
}

constexpr std::optional<Level> parse_level(std::string_view s) {
  for (Level l : kLevels)
    if (name(l) == s) return l;
  return std::nullopt;
}

}  // namespace lowbit::conformance
