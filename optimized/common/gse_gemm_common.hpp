// The ISA-independent pieces of the GSE GEMM kernels: operand exponent planning, the exact
// accumulators' final rounding (as reference/src/gse_gemm.cpp rounds), and the driver that tiles
// C over an ISA's packing, microkernel and epilogues (an ISA policy type: see gemm below). Internal
// linkage, as in fp8_simd.hpp: each ISA's translation unit compiles its own copy.
#pragma once
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "lowbit/formats/gse.hpp"
#include "lowbit/reference/binary_float.hpp"

namespace lowbit::simd {
namespace {

using i128 = __int128;
using u128 = unsigned __int128;


template <class T> struct Buffer {  // 64-byte aligned, uninitialised
  T* p = nullptr;
  explicit Buffer(std::size_t n) : p(static_cast<T*>(::operator new(std::max<std::size_t>(n, 1) * sizeof(T), std::align_val_t{64}))) {}
  ~Buffer() { ::operator delete(p, std::align_val_t{64}); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

// One operand's exponents: e' = field - bias + offset - (bits - 2) per group (the exponent of a
// unit code), and per row the range of e' over the groups that are finite and hold a non-zero
// code. Groups that cannot contribute (all codes zero, or NaN) get the row's lowest e', so that
// every lane stays in the range the tile was planned for; NaN rows are flagged.
struct Operand {
  std::size_t groups = 0;
  std::vector<std::int32_t> e, lo, hi;
  std::vector<std::uint8_t> nan;
};

Operand prepare(std::size_t rows, std::size_t k, const std::int8_t* codes, const std::uint8_t* exps, const gse::Format& f) {
  Operand o;
  const std::size_t G = f.groups(k), N = static_cast<std::size_t>(f.group);
  o.groups = G;
  o.e.resize(rows * G);
  o.lo.assign(rows, 0);
  o.hi.assign(rows, 0);
  o.nan.assign(rows, 0);
  std::vector<std::uint8_t> live(G);
  for (std::size_t r = 0; r < rows; ++r) {
    bool any = false;
    for (std::size_t g = 0; g < G; ++g) {
      const unsigned field = exps[r * G + g];
      const std::int8_t* x = codes + r * k + g * N;
      const std::size_t len = std::min(N, k - g * N);
      std::uint64_t nonzero = 0;
      std::size_t t = 0;
      for (; t + 8 <= len; t += 8) {
        std::uint64_t word;
        std::memcpy(&word, x + t, sizeof word);
        nonzero |= word;
      }
      for (; t < len; ++t) nonzero |= static_cast<std::uint8_t>(x[t]);
      const int e = static_cast<int>(field) - f.exp_bias + f.exp_offset - (f.bits - 2);
      o.e[r * G + g] = e;
      o.nan[r] |= field == f.nan_field();
      live[g] = field != f.nan_field() && nonzero != 0;
      if (!live[g]) continue;
      o.lo[r] = any ? std::min(o.lo[r], e) : e;
      o.hi[r] = any ? std::max(o.hi[r], e) : e;
      any = true;
    }
    for (std::size_t g = 0; g < G; ++g)
      if (!live[g]) o.e[r * G + g] = o.lo[r];
  }
  return o;
}

float pack_f32(bool negative, std::uint64_t sig, int exp) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(ref::pack_nearest(negative, sig, exp, kF32Layout)));
}

// magnitude * 2^exp rounded once to f32 as the reference does: beyond 62 significant bits the
// rest folds into a sticky bit.
float round_u128(bool negative, u128 mag, int exp) {
  const std::uint64_t high = static_cast<std::uint64_t>(mag >> 64);
  const int width = high ? 128 - std::countl_zero(high) : 64 - std::countl_zero(static_cast<std::uint64_t>(mag));
  if (width <= 62) return pack_f32(negative, static_cast<std::uint64_t>(mag), exp);
  const int drop = width - 62;
  const bool sticky = (mag & ((u128{1} << drop) - 1)) != 0;
  return pack_f32(negative, (static_cast<std::uint64_t>(mag >> drop) << 1) | (sticky ? 1 : 0), exp + drop - 1);
}

float round_i128(i128 v, int exp) {
  if (v == 0) return 0.0f;  // an exact zero is +0, as in the reference
  const u128 mag = v < 0 ? -static_cast<u128>(v) : static_cast<u128>(v);
  // The common case: |v| < 2^63 converts with one rounding to nearest even (the hardware's, at
  // 24 bits), and a normal result is then scaled exactly (or overflows to Inf, as it should).
  if (mag >> 63 == 0 && exp >= -126 && exp <= 127 &&
      exp + 63 - std::countl_zero(static_cast<std::uint64_t>(mag)) >= -126)
    return static_cast<float>(static_cast<std::int64_t>(v)) * std::bit_cast<float>(static_cast<std::uint32_t>(exp + 127) << 23);
  return round_u128(v < 0, mag, exp);
}

// Base-2^32 limbs held in int64 (room for 2^9 terms below 2^53 each between carries).
void carry(std::int64_t* l, std::size_t count) {
  for (std::size_t q = 0; q + 1 < count; ++q) {
    const std::int64_t c = l[q] >> 32;  // floor
    l[q] -= c * (std::int64_t{1} << 32);
    l[q + 1] += c;
  }
}

// sum l[q] 2^(32 q) * 2^exp rounded once to f32.
float round_limbs(std::int64_t* l, std::size_t count, int exp) {
  carry(l, count);
  const bool negative = l[count - 1] < 0;
  if (negative) {
    for (std::size_t q = 0; q < count; ++q) l[q] = -l[q];
    carry(l, count);
  }
  std::size_t top = count;
  while (top > 0 && l[top - 1] == 0) --top;
  if (top == 0) return 0.0f;
  const std::size_t t = top - 1, lowest = t >= 2 ? t - 2 : 0;  // three digits: at least 65 bits when t >= 2
  u128 mag = 0;
  for (std::size_t q = t + 1; q-- > lowest;) mag = (mag << 32) | static_cast<std::uint64_t>(l[q]);
  bool sticky = false;
  for (std::size_t q = 0; q < lowest; ++q) sticky |= l[q] != 0;
  int e = exp + 32 * static_cast<int>(lowest);
  if (sticky) {
    mag = (mag << 1) | 1;
    --e;
  }
  return round_u128(negative, mag, e);
}

constexpr std::size_t kFlush = 512;            // exact: groups between folds of the int32 words or limbs
constexpr std::size_t kChunkBytes = 2u << 20;  // packed A per chunk of rows
constexpr std::size_t kMaxChunkRows = 256;

// The exponents of a packed block of rows, from which each tile's epilogue is picked.
struct Block {
  int lo, hi, span;  // over the rows: lowest lo, highest hi, widest hi - lo
};

// exact, any span: per output, base-2^32 limbs in int64, dot << (s mod 32) added at limb s / 32.
template <class Isa> struct WideEpilogue {
  static constexpr std::size_t kMR = Isa::kMR, kNR = Isa::kNR;
  const std::int32_t* sa;
  const std::int32_t* sb;
  std::size_t count;        // limbs per output
  std::int64_t* limbs;      // [kMR * kNR][count], zeroed
  std::size_t pending = 0;

  void operator()(std::size_t g, const typename Isa::Dots& d) {
    alignas(alignof(typename Isa::Dots)) std::int32_t dot[kMR][kNR];
    Isa::store(dot, d);
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t j = 0; j < kNR; ++j) {
        if (dot[i][j] == 0) continue;
        const int s = sa[g * kMR + i] + sb[g * kNR + j];
        limbs[(i * kNR + j) * count + static_cast<std::size_t>(s >> 5)] += std::int64_t{dot[i][j]} << (s & 31);
      }
    if (++pending == kFlush) {
      for (std::size_t o = 0; o < kMR * kNR; ++o) carry(limbs + o * count, count);
      pending = 0;
    }
  }

  void finish(float (&out)[kMR][kNR], const std::int32_t* lo_a, const std::int32_t* lo_b) {
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t j = 0; j < kNR; ++j) out[i][j] = round_limbs(limbs + (i * kNR + j) * count, count, lo_a[i] + lo_b[j]);
  }
};

// The GEMM on one ISA. Isa provides: kMR x kNR, the output tile (rows of A x rows of B); kStep, the
// k per microkernel step; Dots, a tile of int32 group dots; pack_rows<R>, packing R rows of codes
// and their exponents; run_tile(a, b, groups, steps, epilogue), handing each group's dots to the
// epilogue; Fp32Epilogue<normal> and ExactEpilogue<two_limbs>; store(int32[kMR][kNR], dots).
template <class Isa>
void gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
          const std::int8_t* b, const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  constexpr std::size_t kMR = Isa::kMR, kNR = Isa::kNR, kStep = Isa::kStep;
  if (m == 0 || n == 0) return;
  const std::size_t groups = p->a.groups(k), N = static_cast<std::size_t>(p->a.group);
  if (groups == 0) {
    std::fill(c, c + m * n, 0.0f);
    return;
  }
  const bool exact = p->accumulate == gse::Accumulate::exact;
  const Operand A = prepare(m, k, a, a_exps, p->a), B = prepare(n, k, b, b_exps, p->b);
  const std::size_t kp = groups * N;  // k padded to whole groups (zero codes)
  const std::size_t chunk = std::min(std::clamp<std::size_t>(kChunkBytes / (kp * 2) / kMR * kMR, kMR, kMaxChunkRows),
                                     (m + kMR - 1) / kMR * kMR);
  const std::size_t chunk_blocks = chunk / kMR;
  Buffer<std::int16_t> apack(chunk * kp), bpack(kNR * kp);
  Buffer<std::int32_t> aexp(chunk * groups), bexp(kNR * groups);
  std::vector<Block> ablocks(chunk_blocks);
  std::vector<std::int64_t> limbs;

  for (std::size_t i0 = 0; i0 < m; i0 += chunk) {
    const std::size_t rows = std::min(chunk, m - i0), blocks = (rows + kMR - 1) / kMR;
    for (std::size_t ib = 0; ib < blocks; ++ib)
      ablocks[ib] = Isa::template pack_rows<kMR>(a, k, kp, A, i0 + ib * kMR, std::min(kMR, rows - ib * kMR), exact,
                                                 apack.p + ib * kMR * kp, aexp.p + ib * kMR * groups);
    for (std::size_t j0 = 0; j0 < n; j0 += kNR) {
      const std::size_t cols = std::min(kNR, n - j0);
      const Block bb = Isa::template pack_rows<kNR>(b, k, kp, B, j0, cols, exact, bpack.p, bexp.p);
      std::int32_t lo_b[kNR];
      for (std::size_t j = 0; j < kNR; ++j) lo_b[j] = B.lo[j0 + std::min(j, cols - 1)];
      for (std::size_t ib = 0; ib < blocks; ++ib) {
        const std::size_t r0 = i0 + ib * kMR, valid = std::min(kMR, m - r0);
        const std::int16_t* ap = apack.p + ib * kMR * kp;
        const std::int32_t* ea = aexp.p + ib * kMR * groups;
        const Block& ab = ablocks[ib];
        std::int32_t lo_a[kMR];
        for (std::size_t i = 0; i < kMR; ++i) lo_a[i] = A.lo[r0 + std::min(i, valid - 1)];
        alignas(alignof(typename Isa::Dots)) float out[kMR][kNR];
        if (!exact) {
          if (ab.lo + bb.lo >= -126 && ab.hi + bb.hi <= 127) {
            typename Isa::template Fp32Epilogue<true> epi(ea, bexp.p);
            Isa::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out);
          } else {
            typename Isa::template Fp32Epilogue<false> epi(ea, bexp.p);
            Isa::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out);
          }
        } else {
          const int span = ab.span + bb.span;
          if (span < 32) {
            typename Isa::template ExactEpilogue<false> epi(ea, bexp.p);
            Isa::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          } else if (span < 64) {
            typename Isa::template ExactEpilogue<true> epi(ea, bexp.p);
            Isa::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          } else {
            const std::size_t count = static_cast<std::size_t>(span >> 5) + 3;  // two limbs of carry room
            limbs.assign(kMR * kNR * count, 0);
            WideEpilogue<Isa> epi{ea, bexp.p, count, limbs.data()};
            Isa::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          }
        }
        for (std::size_t i = 0; i < valid; ++i)
          for (std::size_t j = 0; j < cols; ++j)
            c[(r0 + i) * n + j0 + j] = A.nan[r0 + i] || B.nan[j0 + j] ? std::numeric_limits<float>::quiet_NaN() : out[i][j];
      }
    }
  }
}

}  // namespace
}  // namespace lowbit::simd
