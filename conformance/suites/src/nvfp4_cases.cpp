// The NVFP4 cases (nvfp4_cases.hpp): the bytes and values below are docs/formats/nvfp4.md's.
#include "lowbit/conformance/nvfp4_cases.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <utility>

namespace lowbit::conformance {
namespace {

using nvfp4::Blocking;
using nvfp4::ScaleLayout;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();

// A rows x cols matrix of zeros with `set` (index, value) pairs.
std::vector<float> sparse(std::size_t n, std::initializer_list<std::pair<std::size_t, float>> set) {
  std::vector<float> v(n, 0.0f);
  for (const auto& [i, x] : set) v[i] = x;
  return v;
}
std::vector<std::uint8_t> sparse_bytes(std::size_t n, std::initializer_list<std::pair<std::size_t, std::uint8_t>> set) {
  std::vector<std::uint8_t> v(n, 0);
  for (const auto& [i, b] : set) v[i] = b;
  return v;
}

}  // namespace

std::vector<Nvfp4Fixed> nvfp4_fixed_vectors() {
  constexpr Blocking d1 = Blocking::d1;
  constexpr ScaleLayout linear = ScaleLayout::linear;
  constexpr float kMax = std::numeric_limits<float>::max();
  std::vector<Nvfp4Fixed> out;
  // Section 7: amax 2688, S_enc 1; ties to even (1120 e = 2.5, 0.75, -0.25, 1.25, 5), -0.0 -> +0.
  out.push_back({"worked example", 1, 32, d1, linear, Rounding::rne,
                 sparse(32, {{0, 2688}, {1, 1120}, {2, -1344}, {3, 100}, {16, 6}, {17, 3}, {18, 0.75f}, {19, -0.25f},
                             {20, 1.25f}, {21, 5}, {22, -0.1f}, {23, -0.0f}}),
                 {}, sparse_bytes(32, {{0, 7}, {1, 4}, {2, 0xD}, {16, 7}, {17, 5}, {18, 2}, {19, 8}, {20, 2}, {21, 6}, {22, 8}}),
                 {0x7E, 0x38}, 2688,
                 sparse(32, {{0, 2688}, {1, 896}, {2, -1344}, {16, 6}, {17, 3}, {18, 1}, {19, -0.0f}, {20, 1}, {21, 4}, {22, -0.0f}})});
  // Section 3: any NaN makes every scale 0x7F and every code 0; decodes to NaN.
  std::vector<float> ones(32, 1.0f);
  ones[5] = kNan;
  out.push_back({"NaN element", 1, 32, d1, linear, Rounding::rne, ones, {}, std::vector<std::uint8_t>(32, 0), {0x7F, 0x7F}, kNan,
                 std::vector<float>(32, kNan)});
  // Inf: S_enc 1, its block's scale 448, Inf -> +-6; an Inf amax decodes code 0 to NaN.
  std::vector<float> inf_decoded(32, kNan);
  inf_decoded[0] = inf_decoded[2] = inf_decoded[16] = kInf;
  inf_decoded[1] = -kInf;
  out.push_back({"Inf elements", 1, 32, d1, linear, Rounding::rne, sparse(32, {{0, kInf}, {1, -kInf}, {2, 896}, {16, 6}}), {},
                 sparse_bytes(32, {{0, 7}, {1, 0xF}, {2, 4}, {16, 7}}), {0x7E, 0x38}, kInf, inf_decoded});
  out.push_back({"zero tensor", 2, 16, d1, linear, Rounding::rne, std::vector<float>(32, 0.0f), {}, std::vector<std::uint8_t>(32, 0),
                 {0, 0}, 0, std::vector<float>(32, 0.0f)});
  // A block whose decode scale rounds to E4M3 zero: codes saturate (x * FLT_MAX), values decode to zero.
  out.push_back({"underflowing block scale", 1, 32, d1, linear, Rounding::rne, sparse(32, {{0, 2688}, {16, 1e-4f}, {17, -5e-5f}}), {},
                 sparse_bytes(32, {{0, 7}, {16, 7}, {17, 0xF}}), {0x7E, 0}, 2688, sparse(32, {{0, 2688}, {17, -0.0f}})});
  // TE's extrema test: FLT_MAX everywhere gives scale 448 and code 6, which decodes through 448 * FLT_MAX = Inf.
  out.push_back({"FLT_MAX tensor", 2, 16, d1, linear, Rounding::rne, std::vector<float>(32, kMax), {}, std::vector<std::uint8_t>(32, 7),
                 {0x7E, 0x7E}, kMax, std::vector<float>(32, kInf)});
  // Section 5: 130 x 80 swizzled (padded to 256 x 8): row 33 block 4 at 512 + 16 + 4 + 0, row 129 block 2
  // at 1024 + 16 + 0 + 2; every other byte zero.
  const std::size_t a = 33 * 80 + 64, b = 129 * 80 + 32;
  out.push_back({"swizzled scales 130 x 80", 130, 80, d1, ScaleLayout::swizzled, Rounding::rne, sparse(130 * 80, {{a, 2688}, {b, -6}}),
                 {}, sparse_bytes(130 * 80, {{a, 7}, {b, 0xF}}), sparse_bytes(2048, {{532, 0x7E}, {1042, 0x38}}), 2688,
                 sparse(130 * 80, {{a, 2688}, {b, -6}})});
  // 2-D tiles over tails (17 x 20): the tile of rows 0-15, columns 16-19 shares its scale in every row;
  // the second tile row (row 16) has its own.
  std::vector<std::uint8_t> tile_scales(34, 0);
  for (std::size_t r = 0; r < 16; ++r) tile_scales[r * 2 + 1] = 0x7E;
  tile_scales[32] = 0x38;
  const std::size_t c = 15 * 20 + 17, d = 16 * 20;
  out.push_back({"2-D tiles 17 x 20", 17, 20, Blocking::d2, linear, Rounding::rne, sparse(17 * 20, {{c, 2688}, {d, 6}}), {},
                 sparse_bytes(17 * 20, {{c, 7}, {d, 7}}), tile_scales, 2688, sparse(17 * 20, {{c, 2688}, {d, 6}})});
  // Stochastic rounding, byte c % 4 of word c / 4: 0.3 + u/2 reaches 0.5 from byte 103, 2.5 + u reaches 3
  // from 128, 4.5 + 2u reaches 6 from 192; -0.0 keeps its sign.
  out.push_back({"sr with given words", 1, 16, d1, linear, Rounding::sr,
                 {6, 0.3f, 0.3f, 0.3f, 2.5f, 2.5f, 4.5f, 4.5f, -1.2f, 0, 0, 0, -0.0f, 0, 0, 0},
                 {0xFF676600, 0xBFC0807F, 0, 0},
                 {0x7, 0x0, 0x1, 0x1, 0x4, 0x5, 0x7, 0x6, 0xA, 0, 0, 0, 0x8, 0, 0, 0},
                 {0x38},
                 2688,
                 {6, 0, 0.5f, 0.5f, 2, 3, 6, 4, -1, 0, 0, 0, -0.0f, 0, 0, 0}});
  return out;
}

std::vector<float> nvfp4_random_tensor(std::mt19937_64& rng, std::size_t rows, std::size_t cols, Blocking blocking,
                                       const std::vector<std::uint32_t>& pool) {
  static constexpr float kTies[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f, 0.5f, 1.0f, 3.0f, 4.0f};
  const std::size_t blocks = nvfp4::row_blocks(cols), tile = blocking == Blocking::d2 ? nvfp4::kBlock : 1;
  std::vector<int> k((rows + tile - 1) / tile * blocks);  // tie blocks: scale 2^k, within E4M3's range, one per tile
  for (int& e : k) e = static_cast<int>(rng() % 18) - 9;
  std::vector<float> x(rows * cols);
  const bool ties = rng() % 2, specials = rng() % 8 == 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t b = 0; b < blocks; ++b) {
      const bool zero = rng() % 8 == 0;
      const int e = k[r / tile * blocks + b], scale = static_cast<int>(rng() % 60) - 30;
      for (std::size_t c = b * nvfp4::kBlock; c < std::min(cols, (b + 1) * nvfp4::kBlock); ++c) {
        float& v = x[r * cols + c];
        if (zero) v = 0.0f;
        else if (ties) v = std::ldexp(kTies[rng() % std::size(kTies)] * (rng() % 2 ? 1.0f : -1.0f), e);
        else v = std::ldexp(static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000, scale);
        if (specials && rng() % 64 == 0) v = std::bit_cast<float>(pool[rng() % pool.size()]);
      }
      if (ties && !zero) x[r * cols + b * nvfp4::kBlock] = std::ldexp(6.0f, e);
    }
  if (ties && !x.empty()) x[rng() % x.size()] = 2688;
  return x;
}

}  // namespace lowbit::conformance
