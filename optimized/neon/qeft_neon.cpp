// QEFT mixed-precision matvec for NEON (aarch64): y = W x in exactly the fp32 order of
// formats/weak.hpp (8 lanes, held as two float32x4 per row: lanes 0-3 and 4-7; lane l takes
// the columns j = l mod 8 in ascending order, one vfmaq each, then ((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7))).
// A lane-for-lane port of optimized/avx2/qeft_avx2.cpp:
//
// 8 output rows a pass (2 qweight rows: 16 independent FMA chains share each x load). Per row and
// group a 16-entry binary16 table fma16(code, scale, zero): when code*scale+zero is exact in fp32
// for every code (the exponent test of the AVX2 kernel) it is vfmaq + vcvt_f16_f32 (the one rounding
// to binary16); otherwise (inexact, Inf or NaN operands) ref::fma_f16 per code, the reference's own
// function. The table is kept as two byte planes (low and high bytes of the fp16). A 64-column
// block of one row is 32 bytes of qweight: vld2q_u8 splits the 16-bit words into low / high bytes,
// the nibbles index vqtbl1q_u8 on each plane (vqtbl2q_u8 on two groups' planes when a group is an
// odd multiple of 32 columns), vzip1q/vzip2q join the planes to fp16 of 8 consecutive columns and
// vcvt_f32_f16 / vcvt_high_f32_f16 make the FMA operands. Columns >= IC - k load 8 fp16 of oweight
// (a NaN made the reference's default NaN of its sign); the one vector that straddles IC - k is put
// together lane by lane. No load reaches past any buffer.
#include <arm_neon.h>

#include <cstring>
#include <utility>

#include "lowbit/kernels.hpp"
#include "lowbit/reference/weak.hpp"

namespace lowbit::neon {
namespace {

constexpr std::size_t kRows = 8;          // output rows a pass
constexpr std::size_t kChunkGroups = 16;  // tables built ahead: 16 groups x 8 rows x 32 bytes

// The 16 fp16 values of one (row, group) as byte planes.
struct alignas(16) Table {
  std::uint8_t lo[16], hi[16];
};

// Tables of rows o0 .. o0 + 7 for group g (the exactness test: see qeft_avx2.cpp).
inline void build_tables(const qeft::Matrix& w, std::size_t o0, std::size_t g, Table* t) {
  const std::uint16_t* sp = w.scales + g * w.oc + o0;
  const std::uint16_t* zp = w.scaled_zeros + g * w.oc + o0;
  // The scales of a group lie OC values apart: prefetch 4 groups ahead (never faults; the address
  // is an integer, no pointer past the buffers).
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(sp) + 8 * w.oc));
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(zp) + 8 * w.oc));
  const uint16x8_t s16 = vld1q_u16(sp), z16 = vld1q_u16(zp);
  const uint16x8_t e31 = vdupq_n_u16(31), one = vdupq_n_u16(1), mag = vdupq_n_u16(0x7FFF);
  const uint16x8_t es = vandq_u16(vshrq_n_u16(s16, 10), e31), ez = vandq_u16(vshrq_n_u16(z16, 10), e31);
  const uint16x8_t special = vorrq_u16(vceqq_u16(es, e31), vceqq_u16(ez, e31));
  const uint16x8_t zero = vorrq_u16(vceqzq_u16(vandq_u16(s16, mag)), vceqzq_u16(vandq_u16(z16, mag)));
  const int16x8_t d = vsubq_s16(vreinterpretq_s16_u16(vmaxq_u16(es, one)), vreinterpretq_s16_u16(vmaxq_u16(ez, one)));
  const uint16x8_t far = vorrq_u16(vcgtq_s16(d, vdupq_n_s16(9)), vcltq_s16(d, vdupq_n_s16(-12)));
  const uint16x8_t slow = vorrq_u16(special, vbicq_u16(far, zero));

  alignas(16) float s[8], z[8];
  const float16x8_t sh = vreinterpretq_f16_u16(s16), zh = vreinterpretq_f16_u16(z16);
  vst1q_f32(s, vcvt_f32_f16(vget_low_f16(sh)));
  vst1q_f32(s + 4, vcvt_high_f32_f16(sh));
  vst1q_f32(z, vcvt_f32_f16(vget_low_f16(zh)));
  vst1q_f32(z + 4, vcvt_high_f32_f16(zh));
  static constexpr float kCodes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  float32x4_t c[4];
  for (int i = 0; i < 4; ++i) c[i] = vld1q_f32(kCodes + 4 * i);
  const auto store = [&](std::size_t r, float16x8_t h0, float16x8_t h1) {  // fp16 of codes 0..7, 8..15 -> planes
    const uint8x16_t a = vreinterpretq_u8_f16(h0), b = vreinterpretq_u8_f16(h1);
    vst1q_u8(t[r].lo, vuzp1q_u8(a, b));
    vst1q_u8(t[r].hi, vuzp2q_u8(a, b));
  };
  for (std::size_t r = 0; r < kRows; ++r) {
    const float32x4_t sb = vdupq_n_f32(s[r]), zb = vdupq_n_f32(z[r]);
    float32x4_t v[4];
    for (int i = 0; i < 4; ++i) v[i] = vfmaq_f32(zb, c[i], sb);
    store(r, vcvt_high_f16_f32(vcvt_f16_f32(v[0]), v[1]), vcvt_high_f16_f32(vcvt_f16_f32(v[2]), v[3]));
  }
  if (vmaxvq_u16(slow)) [[unlikely]] {
    alignas(16) std::uint16_t slow_lanes[8];
    vst1q_u16(slow_lanes, slow);
    for (std::size_t r = 0; r < kRows; ++r)
      if (slow_lanes[r]) {
        alignas(16) std::uint16_t v[16];
        for (int code = 0; code < 16; ++code) v[code] = ref::fma_f16(code, sp[r], zp[r]);
        store(r, vreinterpretq_f16_u16(vld1q_u16(v)), vreinterpretq_f16_u16(vld1q_u16(v + 8)));
      }
  }
}

// Columns 8c .. 8c + 7 of a 64-column block: the fp16 of decode() at this element offset.
inline std::size_t chunk_offset(unsigned c) { return 16 * (c % 4) + 8 * (c / 4); }

// The tables of the two 32-column halves of a block (the same group when group % 64 == 0).
struct Planes {
  const Table* h0;
  const Table* h1;
};

// The fp16 weights of a 64-column block of one row: f16[16 n + 8 h + t] = column 32 h + 8 n + t.
template <bool Same> inline void decode(const std::int16_t* q, const Planes& p, std::size_t r, std::uint16_t* f16) {
  const uint8x16x2_t b = vld2q_u8(reinterpret_cast<const std::uint8_t*>(q));  // low bytes, high bytes of 16 words
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  const uint8x16_t n[4] = {vandq_u8(b.val[0], m4), vshrq_n_u8(b.val[0], 4), vandq_u8(b.val[1], m4), vshrq_n_u8(b.val[1], 4)};
  if constexpr (Same) {
    const uint8x16_t lo = vld1q_u8(p.h0[r].lo), hi = vld1q_u8(p.h0[r].hi);
    for (int i = 0; i < 4; ++i) {
      const uint8x16_t l = vqtbl1q_u8(lo, n[i]), h = vqtbl1q_u8(hi, n[i]);
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i), vzip1q_u8(l, h));
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i + 8), vzip2q_u8(l, h));
    }
  } else {  // lanes 8..15 (the second half) index the second group's plane: + 16
    const uint8x16x2_t lo = {{vld1q_u8(p.h0[r].lo), vld1q_u8(p.h1[r].lo)}};
    const uint8x16x2_t hi = {{vld1q_u8(p.h0[r].hi), vld1q_u8(p.h1[r].hi)}};
    static constexpr std::uint8_t kHalf[16] = {0, 0, 0, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16, 16};
    const uint8x16_t half = vld1q_u8(kHalf);
    for (int i = 0; i < 4; ++i) {
      const uint8x16_t idx = vorrq_u8(n[i], half);
      const uint8x16_t l = vqtbl2q_u8(lo, idx), h = vqtbl2q_u8(hi, idx);
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i), vzip1q_u8(l, h));
      vst1q_u8(reinterpret_cast<std::uint8_t*>(f16 + 16 * i + 8), vzip2q_u8(l, h));
    }
  }
}

struct Acc {
  float32x4_t lo[kRows], hi[kRows];  // lanes 0-3, 4-7
};

template <class F, std::size_t... R> [[gnu::always_inline]] inline void each_row(F&& f, std::index_sequence<R...>) {
  (f(std::integral_constant<std::size_t, R>{}), ...);
}
template <class F> [[gnu::always_inline]] inline void each_row(F&& f) { each_row(f, std::make_index_sequence<kRows>{}); }

// 8 fp16 -> two float32x4, a NaN made sign | 0x7FC00000 (the reference converts through its own decoder).
inline float32x4_t canonical(float32x4_t v) {
  const uint32x4_t bits = vreinterpretq_u32_f32(v);
  const uint32x4_t canon = vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x80000000u)), vdupq_n_u32(0x7FC00000u));
  return vreinterpretq_f32_u32(vbslq_u32(vceqq_f32(v, v), bits, canon));
}

// One whole 4-bit block (columns j .. j + 63, all < IC - k) of the 8 rows.
template <bool Same>
[[gnu::always_inline]] inline void block4(const std::int16_t* const* q, std::size_t j, const Planes& p, const float* x,
                                          Acc& acc) {
  alignas(16) std::uint16_t f16[kRows][64];
  each_row([&](auto r) { decode<Same>(q[r] + j, p, r, f16[r]); });
  for (unsigned c = 0; c < 8; ++c) {
    const float32x4_t x0 = vld1q_f32(x + j + 8 * c), x1 = vld1q_f32(x + j + 8 * c + 4);
    each_row([&](auto r) {
      const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(f16[r] + chunk_offset(c)));
      acc.lo[r] = vfmaq_f32(acc.lo[r], vcvt_f32_f16(vget_low_f16(h)), x0);
      acc.hi[r] = vfmaq_f32(acc.hi[r], vcvt_high_f32_f16(h), x1);
    });
  }
}

// The block holding column IC - k (not a multiple of 64): per 8 columns 4-bit, weak or mixed.
template <bool Same>
[[gnu::noinline]] Acc block_edge(const qeft::Matrix& w, std::size_t o0, const std::int16_t* const* q, std::size_t j,
                                 const Planes& p, const float* x, Acc acc) {
  const std::size_t nonweak = w.ic - w.k;
  for (std::size_t r = 0; r < kRows; ++r) {
    alignas(16) std::uint16_t f16[64];
    decode<Same>(q[r] + j, p, r, f16);
    const std::uint16_t* ow = w.oweight + (o0 + r) * w.k;
    for (unsigned c = 0; c < 8; ++c) {
      const std::size_t col = j + 8 * c;
      alignas(16) std::uint16_t h[8];
      const std::uint16_t* four = f16 + chunk_offset(c);
      for (std::size_t t = 0; t < 8; ++t) h[t] = col + t < nonweak ? four[t] : ow[col + t - nonweak];
      const float16x8_t v = vreinterpretq_f16_u16(vld1q_u16(h));
      acc.lo[r] = vfmaq_f32(acc.lo[r], canonical(vcvt_f32_f16(vget_low_f16(v))), vld1q_f32(x + col));
      acc.hi[r] = vfmaq_f32(acc.hi[r], canonical(vcvt_high_f32_f16(v)), vld1q_f32(x + col + 4));
    }
  }
  return acc;
}

// Columns j0 .. IC - 1, all weak (j0 >= IC - k): 8 fp16 of oweight per row and 8 columns.
[[gnu::always_inline]] inline void weak_columns(const qeft::Matrix& w, std::size_t o0, std::size_t j0, const float* x,
                                                Acc& acc) {
  const std::size_t nonweak = w.ic - w.k;
  for (std::size_t j = j0; j < w.ic; j += 8) {
    const float32x4_t x0 = vld1q_f32(x + j), x1 = vld1q_f32(x + j + 4);
    each_row([&](auto r) {
      const float16x8_t v = vreinterpretq_f16_u16(vld1q_u16(w.oweight + (o0 + r) * w.k + (j - nonweak)));
      acc.lo[r] = vfmaq_f32(acc.lo[r], canonical(vcvt_f32_f16(vget_low_f16(v))), x0);
      acc.hi[r] = vfmaq_f32(acc.hi[r], canonical(vcvt_high_f32_f16(v)), x1);
    });
  }
}

inline float reduce(float32x4_t lo, float32x4_t hi) {
  const float32x4_t s = vaddq_f32(lo, hi);                        // a0+a4, a1+a5, a2+a6, a3+a7
  const float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));  // (a0+a4)+(a2+a6), (a1+a5)+(a3+a7)
  return vpadds_f32(t);
}

// The 8 rows o0 .. o0 + 7, in chunks of kChunkGroups groups: the chunk's tables, then its blocks.
template <bool Same> void pass(const qeft::Matrix& w, std::size_t o0, const float* x, float* y) {
  const std::size_t ic = w.ic, nonweak = ic - w.k, group = w.group, halves = group / 32;
  const std::size_t full = nonweak / 64 * 64;                    // columns of whole 4-bit blocks
  const std::size_t edge_end = nonweak % 64 ? full + 64 : full;  // the end of the block holding IC - k
  const std::int16_t* q[kRows];
  for (std::size_t r = 0; r < kRows; ++r) q[r] = w.qweight + (o0 + r) / 4 * ic + 16 * (r % 4);
  Acc acc;
  each_row([&](auto r) { acc.lo[r] = acc.hi[r] = vdupq_n_f32(0.0f); });
  Table tables[kChunkGroups][kRows];
  for (std::size_t c0 = 0; c0 < edge_end; c0 += kChunkGroups * group) {
    const std::size_t c1 = std::min(c0 + kChunkGroups * group, edge_end);
    const std::size_t groups = (c1 - c0 + group - 1) / group;
    for (std::size_t g = 0; g < groups; ++g) build_tables(w, o0, c0 / group + g, tables[g]);
    std::size_t gi = 0, half = 0;  // the group (in the chunk) of the next 32 columns, and which half of it
    for (std::size_t j = c0; j < c1; j += 64) {
      const Table* t0 = tables[gi];
      if (++half == halves) half = 0, ++gi;
      const Table* t1 = tables[gi];
      if (++half == halves) half = 0, ++gi;
      const Planes p{t0, t1};
      if (j < full) block4<Same>(q, j, p, x, acc);
      else acc = block_edge<Same>(w, o0, q, j, p, x, acc);
    }
  }
  weak_columns(w, o0, edge_end, x, acc);
  each_row([&](auto r) { y[o0 + r] = reduce(acc.lo[r], acc.hi[r]); });
}

void matvec(const qeft::Matrix* wp, const float* x, float* y) {
  const qeft::Matrix& w = *wp;
  for (std::size_t o0 = 0; o0 < w.oc; o0 += kRows) {
    if (w.group % 64 == 0) pass<true>(w, o0, x, y);
    else pass<false>(w, o0, x, y);
  }
}


}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {
using namespace lowbit::neon;

const qeft::Impl qeft_neon{.width = 8, .matvec = matvec};

}  // namespace lowbit::kernels
