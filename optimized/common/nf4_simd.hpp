// The NF4/FP4 SIMD kernels, written once over an ISA's NF4 policy (its lane policy plus the lane
// code of nf4_<isa>.cpp, see nf4_quantize below). Quantizing, every profile becomes one rule: a lane
// value y (x itself, x * scale or x / absmax), code = lut[#{k : y > thr[k]}] (torch:
// #{k : !(y <= thr[k])}, so that a NaN v counts past every bound), two codes a byte. The per-block
// decisions (absmax, NaN blocks, the scale, lowbit's exact thresholds) are scalar code here, from
// the block's largest |x| bit pattern. The reference runs: profiles that mix the rules of the four
// named ones (whole call), blocks that nf4::valid_block() rejects (whole call), and bnb-cuda blocks
// holding a NaN (that block).
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/blocks.hpp"
#include "lowbit/formats/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

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

// ---- the kernels over an ISA's NF4 policy K, which adds to its lane policy:
//   K::Lanes            the lane rule's state: Lanes(const Nf4Plan&) (per call), scale(float) and
//                       exact(const Nf4Block&) (per block), and code_block<M, Divide>(x, len, out),
//                       len (a multiple of 32) codes of x packed into len / 2 bytes;
//   K::kVectorThresholds exact() rounds the 15 products itself (plan_block leaves thr out);
//   K::Dequant          Dequant(nf4::Table), block(absmax): the 16 products table * absmax as the
//                       reference makes them; run(packed, len, out): the elements it does in vectors
//                       (from 0), table(scaled): the 16 products, for the rest.

// The largest f32 bit pattern with the sign cleared over len (a multiple of 32) elements; the next
// block is prefetched meanwhile (blocks.hpp).
template <class I> std::uint32_t nf4_amax_bits(const float* x, std::size_t len) {
  constexpr std::size_t L = I::kLanes;
  const typename I::U abs = I::splat(0x7FFFFFFF);
  typename I::U m0 = I::zero(), m1 = m0;
  for (std::size_t j = 0; j < len; j += 2 * L) {
    __builtin_prefetch(reinterpret_cast<const char*>(x + j) + kPrefetchAhead);
    m0 = I::max_u(m0, I::and_(I::as_u(I::load(x + j)), abs));
    m1 = I::max_u(m1, I::and_(I::as_u(I::load(x + j + L)), abs));
  }
  return I::max_lane(I::max_u(m0, m1));
}

template <class K> void nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const Nf4Plan k = plan_nf4(*p);
  if (k.mode == Nf4Mode::reference || !nf4::valid_block(p->block)) return ref::nf4_quantize_ref(n, in, packed, absmax, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  typename K::Lanes l(k);
  alignas(64) float tail[4096];
  alignas(64) std::uint8_t tail_out[2048];
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = std::min(block, n - start);
    const bool partial = len < block;
    const float* x = in + start;
    std::uint8_t* o = packed + start / 2;
    std::size_t padded = block;
    if (partial) {  // the last block through a zero-padded copy, as blocks.hpp
      padded = (len + 31) & ~std::size_t{31};
      std::memcpy(tail, x, len * sizeof(float));
      std::fill(tail + len, tail + padded, 0.0f);
      x = tail;
      o = tail_out;
    }
    const Nf4Block plan = plan_block(k, in + start, len, partial, nf4_amax_bits<K>(x, padded), !K::kVectorThresholds);
    absmax[b] = plan.stored;
    if (plan.kind == Nf4Block::fill) {
      std::memset(o, plan.code * 0x11, padded / 2);
    } else if (plan.kind == Nf4Block::reference) {
      ref::nf4_quantize_ref(len, in + start, o, absmax + b, p);  // same partial flag and odd-n padding
    } else {
      l.scale(plan.divide ? plan.stored : plan.scale);
      switch (k.mode) {
        case Nf4Mode::exact:
          l.exact(plan);
          l.template code_block<Nf4Mode::exact, false>(x, padded, o);
          break;
        case Nf4Mode::torch:
          if (plan.divide) l.template code_block<Nf4Mode::torch, true>(x, padded, o);
          else l.template code_block<Nf4Mode::torch, false>(x, padded, o);
          break;
        case Nf4Mode::cuda_nf4: l.template code_block<Nf4Mode::cuda_nf4, false>(x, padded, o); break;
        case Nf4Mode::cuda_fp4: l.template code_block<Nf4Mode::cuda_fp4, false>(x, padded, o); break;
        case Nf4Mode::reference: break;
      }
    }
    // A padding lane is a 0.0 scaled like the block: the reference's odd-n padding code.
    if (partial) std::memcpy(packed + start / 2, tail_out, (len + 1) / 2);
  }
}

template <class K> void nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  if (!nf4::valid_block(p->block)) return ref::nf4_dequantize_ref(n, packed, absmax, out, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  typename K::Dequant dq(p->table);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = std::min(block, n - start);
    const std::uint8_t* c = packed + start / 2;
    float* o = out + start;
    dq.block(absmax[b]);
    std::size_t j = dq.run(c, len, o);
    if (j < len) {
      alignas(64) float scaled[16];
      dq.table(scaled);
      for (; j < len; ++j) o[j] = scaled[ref::nf4_code_at(c, j)];
    }
  }
}

}  // namespace
}  // namespace lowbit::simd
