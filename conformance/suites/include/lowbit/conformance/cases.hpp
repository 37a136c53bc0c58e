// Case generators: structured boundary cases crossed with seeded random ones (TestFloat levels).
#pragma once
#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace lowbit::conformance {

// splitmix64: a tiny, fully specified generator so that case lists are the same everywhere.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

inline constexpr std::uint32_t kF32Sign = 0x80000000u;
inline std::uint32_t f32_bits(float x) { return std::bit_cast<std::uint32_t>(x); }
inline std::vector<std::uint32_t> f32_bits(std::span<const float> v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = f32_bits(v[i]);
  return b;
}

// Every exponent x mantissas around each possible rounding position (exact ties, one below and
// above, with the kept LSB odd and even, all ones) x both signs, then `random` seeded patterns,
// half of them uniform over all bits and half with exponents near the FP8 range.
std::vector<std::uint32_t> f32_cases(std::uint64_t seed, std::size_t random);
std::vector<std::uint64_t> f64_cases(std::uint64_t seed, std::size_t random);

}  // namespace lowbit::conformance
