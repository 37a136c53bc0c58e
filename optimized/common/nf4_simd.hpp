// What every NF4/FP4 SIMD kernel derives per call and per block, so that each ISA's code is only
// lane arithmetic. Quantizing, every profile becomes one rule: a lane value y (x itself, x * scale
// or x / absmax), code = lut[#{k : y > thr[k]}] (torch: #{k : !(y <= thr[k])}, so that a NaN v
// counts past every bound), two codes a byte. The per-block decisions (absmax, NaN blocks, the
// scale, lowbit's exact thresholds) are scalar code here, from the block's largest |x| bit pattern.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/nf4.hpp"

// Internal linkage, as in fp8_simd.hpp: each ISA's translation unit gets its own copy.
namespace lowbit::simd {
namespace {

// The lane rule of a call.
enum class Nf4Mode : std::uint8_t {
  exact,      // lowbit: y = x against per-block thresholds RD(mid[k] * absmax), strictly greater
  torch,      // bnb-cpu / bnb-torch: y = x * fl(1 / max(absmax, 1e-38)) (x / absmax in the partial
              // last block) against the fp32 midpoints; NaN counts 15. The clamp to [-1, 1] is left
              // out: every midpoint lies inside (-1, 1), so it changes no comparison.
  cuda_nf4,   // bnb-cuda NF4: y = x * fl(1 / absmax) against the 15 literals, strictly greater
  cuda_fp4,   // bnb-cuda FP4: |y| against the 7 literals (8 +Inf pads), plus 8 where y < 0
  reference,  // a profile that mixes the rules of several: the reference runs the whole call
};

struct Nf4Plan {
  Nf4Mode mode;
  std::array<float, 15> thr;         // per call (torch, cuda)
  std::array<double, 15> mid;        // exact: the midpoints of adjacent sorted values, exact in double
  std::array<std::uint8_t, 16> lut;  // count -> code
  std::uint8_t zero;                 // zero_code
  std::uint8_t nan_code;             // torch: the code of a NaN v
};

inline Nf4Plan plan_nf4(const nf4::Params& p) {
  Nf4Plan k{};
  const nf4::Table t = p.table;
  const std::array<std::uint8_t, 16> order = sorted_codes(t);
  k.zero = zero_code(t);
  const nf4::Absmax a = p.profile.absmax;
  const nf4::Search s = p.profile.search;
  if (a == nf4::Absmax::exact_nan_block && s == nf4::Search::exact_nearest) {
    k.mode = Nf4Mode::exact;
    for (unsigned i = 0; i < 15; ++i)
      k.mid[i] = (static_cast<double>(table_value(t, order[i])) + table_value(t, order[i + 1])) / 2;
    for (unsigned c = 0; c < 16; ++c) k.lut[c] = table_value(t, order[c]) == 0 ? k.zero : order[c];
  } else if (a == nf4::Absmax::torch_max && s == nf4::Search::fp32_midpoints) {
    k.mode = Nf4Mode::torch;
    k.thr = fp32_midpoints(t);
    k.lut = order;
    k.nan_code = order[15];
  } else if (a == nf4::Absmax::cuda_fmaxf && s == nf4::Search::cuda_thresholds) {
    if (t == nf4::Table::nf4) {
      k.mode = Nf4Mode::cuda_nf4;
      for (unsigned i = 0; i < 15; ++i) k.thr[i] = std::bit_cast<float>(nf4::kNf4CudaThresholdBits[i]);
      for (unsigned c = 0; c < 16; ++c) k.lut[c] = static_cast<std::uint8_t>(c);
    } else {
      k.mode = Nf4Mode::cuda_fp4;
      for (unsigned i = 0; i < 15; ++i) k.thr[i] = i < 7 ? nf4::kFp4CudaThresholds[i] : INFINITY;
      for (unsigned c = 0; c < 16; ++c) k.lut[c] = static_cast<std::uint8_t>(nf4::kFp4CudaMagnitudeCodes[c & 7] | (c & 8));
    }
  } else {
    k.mode = Nf4Mode::reference;
  }
  return k;
}

// The largest binary32 not above d (|d| <= FLT_MAX). For a binary32 x and any real P,
// x > P <=> x > RD(P): this turns lowbit's exact comparison x > mid * absmax into an fp32 compare.
inline float round_down(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) > d) {  // one step down; f = -0 (d a tiny negative) gives -denorm_min
    const std::uint32_t b = std::bit_cast<std::uint32_t>(f);
    f = std::bit_cast<float>((b & 0x80000000u) ? b + 1 : b - 1);
  }
  return f;
}

// What the lanes of one block do.
struct Nf4Block {
  enum Kind : std::uint8_t {
    lanes,      // codes from the lane rule
    fill,       // every code (and the odd-n padding) is `code`
    reference,  // bnb-cuda block holding a NaN (fmaxf's NaN rules): the reference quantizes it
  } kind;
  std::uint8_t code;
  bool divide;  // torch's partial last block: y = x / stored
  float stored, scale;
  std::array<float, 15> thr;  // exact: RD(mid[k] * absmax)
};

// The reference's per-block decisions (reference/src/nf4.cpp block_scale) from amax, the largest f32
// bit pattern of the block with the sign cleared (integer order is magnitude order, NaN above Inf).
// Lanes past n in a partial block are zeros: they change no profile's maximum (CUDA's reads 0.0f).
// with_thr = false leaves thr to the caller (an ISA that rounds the 15 products in vectors).
inline Nf4Block plan_block(const Nf4Plan& k, const float* x, std::size_t len, bool partial, std::uint32_t amax,
                           bool with_thr = true) {
  Nf4Block b{};
  b.kind = Nf4Block::lanes;
  const bool has_nan = amax > 0x7F800000u;
  const float m = std::bit_cast<float>(amax);
  switch (k.mode) {
    case Nf4Mode::exact:
      if (amax >= 0x7F800000u || amax == 0) {  // NaN/Inf block: NaN absmax; zero block: absmax 0
        b.kind = Nf4Block::fill;
        b.code = k.zero;
        b.stored = amax == 0 ? 0.0f : std::bit_cast<float>(0x7FC00000u);
        return b;
      }
      b.stored = m;
      if (with_thr)
        for (unsigned i = 0; i < 15; ++i) b.thr[i] = round_down(k.mid[i] * static_cast<double>(m));
      return b;
    case Nf4Mode::torch:
      if (has_nan) {  // torch's max returns the first NaN as it is; every v is NaN
        b.kind = Nf4Block::fill;
        b.code = k.nan_code;
        b.stored = *std::find_if(x, x + len, [](float v) { return std::isnan(v); });
        return b;
      }
      if (partial) {
        b.stored = std::max(m, nf4::kBnbAbsmaxClamp);
        b.divide = true;
      } else {
        b.stored = m;
        b.scale = 1.0f / std::max(m, nf4::kBnbAbsmaxClamp);
      }
      return b;
    case Nf4Mode::cuda_nf4:
    case Nf4Mode::cuda_fp4:
      if (has_nan) {
        b.kind = Nf4Block::reference;
        return b;
      }
      b.stored = m;
      b.scale = 1.0f / m;
      return b;
    case Nf4Mode::reference: break;
  }
  b.kind = Nf4Block::reference;
  return b;
}

}  // namespace
}  // namespace lowbit::simd
