// The QEFT mixed-precision matvec y = W x, written once over an ISA's QEFT policy (its lane
// policy plus the table code of qeft_<isa>.cpp, see qeft_matvec below), in exactly the fp32 order
// of formats/weak.hpp: 8 lanes, lane l takes the columns j = l mod 8 in ascending order, one fused
// multiply-add each, then ((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7)).
//
// 8 output rows a pass (2 qweight rows: 8 rows of FMA chains share each x load). Per row and group
// a 16-entry binary16 table fma16(code, scale, zero): when code*scale+zero is exact in fp32 for
// every code (an exponent test on the two fp16 values, build_tables) it is one fp32 FMA and one
// conversion to binary16 (the one rounding, as the reference); otherwise (inexact, Inf or NaN
// operands) the reference's own ref::fma_f16 per code. The tables of 16 groups are built ahead of
// their blocks and kept as two byte planes (low and high bytes of the fp16). A 64-column block of a
// row (32 bytes of qweight) becomes 64 fp16 on the stack (the ISA's table lookups), which the FMAs
// then convert to f32. Columns >= IC - k take 8 fp16 of oweight (a NaN made the reference's
// default NaN of its sign); the one vector that straddles IC - k is put together lane by lane. No
// load reaches past any buffer.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "lowbit/formats/weak.hpp"
#include "lowbit/reference/weak.hpp"

namespace lowbit::simd {
namespace {

inline constexpr std::size_t kQeftRows = 8;          // output rows a pass
inline constexpr std::size_t kQeftChunkGroups = 16;  // tables built ahead: 16 groups x 8 rows x 32 bytes
inline constexpr std::size_t kQeftPrefetchGroups = 4;  // scales and zeros prefetched this many groups ahead
inline constexpr std::size_t kQeftPrefetchQ = 1024;    // qweight prefetched this many bytes ahead

// A prefetch `ahead` bytes past p into L1 (or L2): it never faults, and the address is computed as
// an integer, so no pointer points past a buffer.
inline void prefetch_l1(const void* p, std::size_t ahead) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + ahead), 0, 3);
}
inline void prefetch_l2(const void* p, std::size_t ahead) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + ahead), 0, 2);
}

// The 16 fp16 values of one (row, group) as byte planes.
struct alignas(32) QeftTable {
  std::uint8_t lo[16], hi[16];
};

// The tables of the two 32-column halves of a block (the same group when group % 64 == 0).
struct QeftPlanes {
  const QeftTable* h0;
  const QeftTable* h1;
};

// A block's 64 fp16 weights on the stack, 8 columns (16 bytes) each in the order {0-7, 32-39},
// {8-15, 40-47}, {16-23, 48-55}, {24-31, 56-63}: columns 8c .. 8c + 7 start at this element.
inline std::size_t chunk_offset(unsigned c) { return 16 * (c % 4) + 8 * (c / 4); }

template <class F, std::size_t... R> [[gnu::always_inline]] inline void each_row(F&& f, std::index_sequence<R...>) {
  (f(std::integral_constant<std::size_t, R>{}), ...);
}
// f(r) for every row r of a pass, r a constant: the accumulators stay in registers.
template <class F> [[gnu::always_inline]] inline void each_row(F&& f) { each_row(f, std::make_index_sequence<kQeftRows>{}); }

// ---- the kernel over an ISA's QEFT policy K, which adds to its lane policy:
//   V8, zero8(), load8(const float*), fma8(acc, w, x), reduce8(acc): 8 f32 lanes, the FMA, the sum
//   cvt8(h): 8 fp16 (16-byte aligned) as f32; weak8(h): the same (unaligned) with every NaN made
//   sign | 0x7FC00000 (the reference converts through its own decoder)
//   to_f32(h, out): 8 fp16 to 8 f32 in memory; fast_table(s, z, h0, h1): the fp16 of code * *s + *z
//   for codes 0..7 and 8..15, one fp32 FMA and one rounding each; store_table(t, h0, h1): those as
//   byte planes
//   decode<Same>(q, planes, r, f16): the 64 fp16 weights of the block at q of row r
//   pin(f16): whatever keeps the compiler from reading those fp16 other than from the stack

template <class K> struct QeftAcc {
  typename K::V8 v[kQeftRows];  // one per output row (registers: every index is a constant)
};

// Tables of rows o0 .. o0 + 7 for group g.
template <class K> inline void qeft_build_tables(const qeft::Matrix& w, std::size_t o0, std::size_t g, QeftTable* t) {
  using H = typename K::H;
  const std::uint16_t* sp = w.scales + g * w.oc + o0;
  const std::uint16_t* zp = w.scaled_zeros + g * w.oc + o0;
  // The scales of a group lie OC values apart: prefetch the groups ahead.
  prefetch_l1(sp, kQeftPrefetchGroups * w.oc * 2);
  prefetch_l1(zp, kQeftPrefetchGroups * w.oc * 2);
  const H s16 = K::load_h(sp), z16 = K::load_h(zp);
  // With es, ez = max(exponent field, 1): |s| < 2^(es - 14), |z| < 2^(ez - 14), and code*s + z
  // (code <= 15) is a multiple of 2^(min(es, ez) - 25) below 15/16 2^(es - 10) + 2^(ez - 14). That
  // fits in 24 bits (exact in fp32) when es - ez <= 9 and ez - es <= 12, or when s or z is zero.
  // es - ez = 10 is inexact, and double rounding then happens (tests: EdgesOfTheExactTablePath).
  // Exponent field 31 (Inf, NaN) goes to the reference function too.
  const H e31 = K::splat_h(31), one = K::splat_h(1), mag = K::splat_h(0x7FFF), none = K::splat_h(0);
  const H es = K::and_h(K::template shr_h<10>(s16), e31), ez = K::and_h(K::template shr_h<10>(z16), e31);
  const H special = K::or_h(K::eq_h(es, e31), K::eq_h(ez, e31));
  const H zero = K::or_h(K::eq_h(K::and_h(s16, mag), none), K::eq_h(K::and_h(z16, mag), none));
  const H d = K::sub_h(K::max_h(es, one), K::max_h(ez, one));
  const H far = K::or_h(K::gt_h(d, K::splat_h(9)), K::gt_h(K::splat_h(static_cast<std::uint16_t>(-12)), d));
  const unsigned slow_rows = K::mask_h(K::or_h(special, K::and_not_h(far, zero)));

  alignas(32) float s[8], z[8];
  K::to_f32(s16, s);
  K::to_f32(z16, z);
#pragma GCC unroll 8
  for (std::size_t r = 0; r < kQeftRows; ++r) {
    H h0, h1;
    K::fast_table(s + r, z + r, h0, h1);
    K::store_table(t[r], h0, h1);
  }
  if (slow_rows) [[unlikely]]
    for (std::size_t r = 0; r < kQeftRows; ++r)
      if (slow_rows >> r & 1) {
        alignas(16) std::uint16_t v[16];
        for (int c = 0; c < 16; ++c) v[c] = ref::fma_f16(c, sp[r], zp[r]);
        K::store_table(t[r], K::load_h(v), K::load_h(v + 8));
      }
}

// The fp16 weights of the 64-column block at j of the 8 rows.
template <class K, bool Same>
[[gnu::always_inline]] inline void qeft_decode_rows(const std::int16_t* const* q, std::size_t j, const QeftPlanes& p,
                                                    std::uint16_t (&f16)[kQeftRows][64]) {
  each_row([&](auto r) { K::template decode<Same>(q[r] + j, p, r, f16[r]); });
}

// One whole 4-bit block (columns j .. j + 63, all < IC - k) of the 8 rows: first the fp16 weights
// of every row to the stack, then per 8 columns one x load and 8 FMAs.
template <class K, bool Same>
[[gnu::always_inline]] inline void qeft_block4(const std::int16_t* const* q, std::size_t j, const QeftPlanes& p,
                                               const float* x, QeftAcc<K>& acc) {
  alignas(32) std::uint16_t f16[kQeftRows][64];
  // The block's 2 x 128 bytes of qweight (2 qweight rows): prefetched kQeftPrefetchQ bytes ahead.
  for (std::size_t r : {0, 4})
    for (std::size_t b : {0, 64}) prefetch_l1(q[r] + j, kQeftPrefetchQ + b);
  qeft_decode_rows<K, Same>(q, j, p, f16);
  K::pin(f16);
#pragma GCC unroll 8
  for (unsigned c = 0; c < 8; ++c) {
    const typename K::V8 xv = K::load8(x + j + 8 * c);
    each_row([&](auto r) { acc.v[r] = K::fma8(acc.v[r], K::cvt8(f16[r] + chunk_offset(c)), xv); });
  }
}

// The block holding column IC - k (not a multiple of 64): per 8 columns 4-bit, weak or mixed.
template <class K, bool Same>
[[gnu::noinline]] QeftAcc<K> qeft_block_edge(const qeft::Matrix& w, std::size_t o0, const std::int16_t* const* q,
                                             std::size_t j, const QeftPlanes& p, const float* x, QeftAcc<K> acc) {
  const std::size_t nonweak = w.ic - w.k;
  alignas(32) std::uint16_t f16[kQeftRows][64];
  qeft_decode_rows<K, Same>(q, j, p, f16);
  for (std::size_t r = 0; r < kQeftRows; ++r) {
    const std::uint16_t* ow = w.oweight + (o0 + r) * w.k;
    for (unsigned c = 0; c < 8; ++c) {
      const std::size_t col = j + 8 * c;
      std::uint16_t h[8];
      const std::uint16_t* eight = f16[r] + chunk_offset(c);
      for (std::size_t t = 0; t < 8; ++t) h[t] = col + t < nonweak ? eight[t] : ow[col + t - nonweak];
      acc.v[r] = K::fma8(acc.v[r], K::weak8(h), K::load8(x + col));
    }
  }
  return acc;
}

// Columns j0 .. IC - 1, all weak (j0 >= IC - k): 8 fp16 of oweight per row and 8 columns.
template <class K>
[[gnu::always_inline]] inline void qeft_weak_columns(const qeft::Matrix& w, std::size_t o0, std::size_t j0, const float* x,
                                                     QeftAcc<K>& acc) {
  const std::size_t nonweak = w.ic - w.k;
  for (std::size_t j = j0; j < w.ic; j += 8) {
    const typename K::V8 xv = K::load8(x + j);
    each_row([&](auto r) { acc.v[r] = K::fma8(acc.v[r], K::weak8(w.oweight + (o0 + r) * w.k + (j - nonweak)), xv); });
  }
}

// The 8 rows o0 .. o0 + 7. The columns go in chunks of kQeftChunkGroups groups: first the tables of
// every group of the chunk (independent work, which an out-of-order core overlaps), then its blocks.
template <class K, bool Same> void qeft_pass(const qeft::Matrix& w, std::size_t o0, const float* x, float* y) {
  const std::size_t ic = w.ic, nonweak = ic - w.k, group = w.group, halves = group / 32;
  const std::size_t full = nonweak / 64 * 64;                    // columns of whole 4-bit blocks
  const std::size_t edge_end = nonweak % 64 ? full + 64 : full;  // the end of the block holding IC - k
  const std::int16_t* q[kQeftRows];
  for (std::size_t r = 0; r < kQeftRows; ++r) q[r] = w.qweight + (o0 + r) / 4 * ic + 16 * (r % 4);
  // The next pass's stream starts (the first kQeftPrefetchQ bytes of its two qweight rows, its weak
  // columns) into L2 now: the prefetches ahead inside a stream cannot cover its start.
  if (o0 + kQeftRows < w.oc) {
    const std::int16_t* next = w.qweight + (o0 + kQeftRows) / 4 * ic;
    for (std::size_t b = 0; b < kQeftPrefetchQ; b += 64) {
      prefetch_l2(next, b);
      prefetch_l2(next + ic, b);
    }
    if (w.k)
      for (std::size_t b = 0; b < std::min<std::size_t>(kQeftRows * w.k * 2, 4096); b += 64)
        prefetch_l2(w.oweight + (o0 + kQeftRows) * w.k, b);
  }
  QeftAcc<K> acc;
  each_row([&](auto r) { acc.v[r] = K::zero8(); });
  QeftTable tables[kQeftChunkGroups][kQeftRows];
  for (std::size_t c0 = 0; c0 < edge_end; c0 += kQeftChunkGroups * group) {
    const std::size_t c1 = std::min(c0 + kQeftChunkGroups * group, edge_end);
    const std::size_t groups = (c1 - c0 + group - 1) / group;
    for (std::size_t g = 0; g < groups; ++g) qeft_build_tables<K>(w, o0, c0 / group + g, tables[g]);
    std::size_t gi = 0, half = 0;  // the group (in the chunk) of the next 32 columns, and which half of it
    for (std::size_t j = c0; j < c1; j += 64) {
      const QeftTable* t0 = tables[gi];
      if (++half == halves) half = 0, ++gi;
      const QeftTable* t1 = tables[gi];
      if (++half == halves) half = 0, ++gi;
      const QeftPlanes p{t0, t1};
      if (j < full) qeft_block4<K, Same>(q, j, p, x, acc);
      else acc = qeft_block_edge<K, Same>(w, o0, q, j, p, x, acc);
    }
  }
  qeft_weak_columns<K>(w, o0, edge_end, x, acc);
  each_row([&](auto r) { y[o0 + r] = K::reduce8(acc.v[r]); });
}

template <class K> void qeft_matvec(const qeft::Matrix* wp, const float* x, float* y) {
  const qeft::Matrix& w = *wp;
  for (std::size_t o0 = 0; o0 < w.oc; o0 += kQeftRows) {
    if (w.group % 64 == 0) qeft_pass<K, true>(w, o0, x, y);
    else qeft_pass<K, false>(w, o0, x, y);
  }
}

}  // namespace
}  // namespace lowbit::simd
