// The NVFP4 cases the suite (run_nvfp4_suite) and the golden generator (gen_nvfp4) share: the fixed
// vectors of docs/formats/nvfp4.md with their documented bytes and values, and random tensors.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "lowbit/formats/nvfp4.hpp"

namespace lowbit::conformance {

// One fixed vector: a rows x cols tensor encoded with its blocking, layout and rounding (sr: the given
// words) and the given amax gives `codes` and `scales`, which decode to `decoded`.
struct Nvfp4Fixed {
  const char* name;
  std::size_t rows, cols;
  nvfp4::Blocking blocking = nvfp4::Blocking::d1;
  nvfp4::ScaleLayout layout = nvfp4::ScaleLayout::linear;
  Rounding rounding = Rounding::rne;
  std::vector<float> x;
  std::vector<std::uint32_t> random;  // sr
  std::vector<std::uint8_t> codes, scales;
  float amax;
  std::vector<float> decoded;
};

// Section 7's worked example, section 3's specials (a NaN, Infs, a zero tensor, an underflowing block
// scale, TE's FLT_MAX extrema), section 5's swizzled layout (130 x 80), 2-D tiles over tails (17 x 20), and
// sr with given words.
std::vector<Nvfp4Fixed> nvfp4_fixed_vectors();

// A rows x cols tensor. Half are tie tensors: blocks led by 6 * 2^k holding E2M1 values and ties times
// 2^k, and one element 2688, which makes S_enc 1 and each block's scale 2^k, so that the ties are exact
// (with 2-D blocking, every row of a 16-row tile has the same k); the others hold data-like values at a
// random exponent per block. Either has zero blocks, and now and then f32 specials (NaN, Inf,
// subnormals, -0) from `pool`, f32 bit patterns.
std::vector<float> nvfp4_random_tensor(std::mt19937_64& rng, std::size_t rows, std::size_t cols, nvfp4::Blocking b,
                                       const std::vector<std::uint32_t>& pool);

}  // namespace lowbit::conformance
