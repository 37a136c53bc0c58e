// The self-describing .gse stream (docs/formats/gse.md "The .gse file"): a 32-byte header that
// records every parameter, then the bit-packed layout.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/formats/gse.hpp"

namespace lowbit::io {

struct GseFile {
  gse::Format format;
  Rounding rounding = Rounding::rne;  // how it was encoded (informative)
  std::uint64_t seed = 0;             // sr seed (informative)
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> exps;
};

std::vector<std::uint8_t> write_gse(const GseFile& f);
// Throws lowbit::Error (Errc::data) naming what is wrong: magic, version, a parameter, the size, a code.
GseFile read_gse(std::span<const std::uint8_t> bytes);

}  // namespace lowbit::io
