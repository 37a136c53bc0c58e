// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// default source of stochastic-rounding bits. Counter-based, so any element's bits can be
// computed alone: element i of a stream uses word i mod 4 of the block at counter floor(i/4).
#pragma once
#include <array>
#include <cstdint>

namespace lowbit::ref {

using PhiloxBlock = std::array<std::uint32_t, 4>;

constexpr PhiloxBlock philox4x32_10(PhiloxBlock ctr, std::array<std::uint32_t, 2> key) {
  constexpr std::uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t{kMul0} * ctr[0];
    const std::uint64_t p1 = std::uint64_t{kMul1} * ctr[2];
    ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
    key = {key[0] + kWeyl0, key[1] + kWeyl1};
  }
  return ctr;
}

// The random word of element `i` for key `seed`: key = (low 32 bits, high 32 bits) of the seed,
// counter = (low 32, high 32 bits of floor(i/4), 0, 0).
constexpr std::uint32_t philox_word(std::uint64_t seed, std::uint64_t i) {
  const std::uint64_t block = i / 4;
  const PhiloxBlock out = philox4x32_10(
      {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0, 0},
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  return out[i % 4];
}

}  // namespace lowbit::ref
