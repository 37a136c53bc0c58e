// Independent oracles for the block formats, written from docs/formats/gse.md and mx.md with
// exact arithmetic (Boost.Multiprecision), never from the reference's code. The conformance
// suite checks every implementation, the reference included, against them.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/mx.hpp"

namespace lowbit::conformance {

struct OracleGroup {
  std::vector<int> codes;
  unsigned field = 0;
  BlockStats stats;
};

// One GSE group of finite or special f32 values; words[i] is element i's sr word.
OracleGroup gse_oracle(const std::vector<float>& x, const gse::Format& f, Rounding r,
                       const std::vector<std::uint32_t>& words);

// The exact value of a code under an exponent field (NaN for the NaN field).
double gse_oracle_value(int code, unsigned field, const gse::Format& f);

// microxcaling's C++ path: the fake-quantized value of x in a block whose largest magnitude is amax.
float mx_oracle(float x, float amax, const mx::Traits& t, Rounding r);

// A random GSE format (every parameter, both overflow rules) and groups that reach every rule:
// exact ties, a maximum that rounds up, f32 subnormals, signed zeros, NaN/Inf, exponent clamps.
gse::Format random_gse_format(std::mt19937_64& rng);
std::vector<float> random_gse_group(std::mt19937_64& rng, int len, const gse::Format& f);

}  // namespace lowbit::conformance
