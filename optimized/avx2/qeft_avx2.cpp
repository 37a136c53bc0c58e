// QEFT mixed-precision matvec for AVX2 (+ FMA, F16C): y = W x in exactly the fp32 order of
// formats/weak.hpp (8 lanes, lane l takes the columns j = l mod 8 in ascending order, one
// fused multiply-add each, then ((a0+a4)+(a2+a6))+((a1+a5)+(a3+a7))).
//
// 8 output rows a pass (2 qweight rows: 8 independent FMA chains share each x load). Per row and
// group a 16-entry binary16 table fma16(code, scale, zero): when code*scale+zero is exact in fp32
// for every code (an exponent test on the two fp16 values, below) it is one vfmadd + vcvtps2ph (the
// one rounding to binary16, as the reference); otherwise (inexact, Inf or NaN operands) the
// reference's own ref::fma_f16 per code. The tables of 16 groups are built ahead of their blocks and
// kept as two byte planes (low and high bytes of the fp16). A 64-column block of one row is 32
// bytes of qweight: vpshufb splits the 16-bit words into low / high bytes, the nibbles index two
// vpshufb (one per plane), vpunpck{l,h}bw joins the planes to 8 fp16 of 8 consecutive columns, and
// vcvtph2ps (from the stack) makes the FMA operand: 28 vector uops per 64 weights. Columns >= IC - k
// load 8 fp16 of oweight (a NaN made the reference's default NaN of its sign); the one vector that
// straddles IC - k is put together lane by lane. No load reaches past any buffer.
#include <immintrin.h>

#include <cstring>
#include <utility>

#include "lowbit/kernels.hpp"
#include "lowbit/reference/weak.hpp"

namespace lowbit::avx2 {
namespace {

constexpr std::size_t kRows = 8;           // output rows a pass
constexpr std::size_t kPrefetchGroups = 4;  // scales and zeros prefetched this many groups ahead
constexpr std::size_t kPrefetchQ = 1024;    // qweight prefetched this many bytes ahead
constexpr std::size_t kChunkGroups = 16;    // tables built ahead: 16 groups x 8 rows x 32 bytes

inline void prefetch(const void* p, std::size_t ahead) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + ahead), _MM_HINT_T0);
}
inline void prefetch_l2(const void* p, std::size_t ahead) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + ahead), _MM_HINT_T1);
}

// The 16 fp16 values of one (row, group) as byte planes.
struct alignas(32) Table {
  std::uint8_t lo[16], hi[16];
};

// Per 128-bit lane: even bytes, then odd bytes (the low / high bytes of 8 16-bit words).
inline __m256i split_bytes(__m256i v) {
  const __m256i ctrl = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,  //
                                        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  return _mm256_shuffle_epi8(v, ctrl);
}

// Tables of rows o0 .. o0 + 7 for group g.
inline void build_tables(const qeft::Matrix& w, std::size_t o0, std::size_t g, Table* t) {
  const std::uint16_t* sp = w.scales + g * w.oc + o0;
  const std::uint16_t* zp = w.scaled_zeros + g * w.oc + o0;
  // The scales of a group lie OC values apart: prefetch the groups ahead (a prefetch never faults,
  // and the address is computed as an integer: no pointer past the buffers).
  prefetch(sp, kPrefetchGroups * w.oc * 2);
  prefetch(zp, kPrefetchGroups * w.oc * 2);
  const __m128i s16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp));
  const __m128i z16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zp));
  // With es, ez = max(exponent field, 1): |s| < 2^(es - 14), |z| < 2^(ez - 14), and code*s + z
  // (code <= 15) is a multiple of 2^(min(es, ez) - 25) below 15/16 2^(es - 10) + 2^(ez - 14). That
  // fits in 24 bits (exact in fp32) when es - ez <= 9 and ez - es <= 12, or when s or z is zero.
  // es - ez = 10 is inexact, and double rounding then happens (tests: EdgesOfTheExactTablePath).
  // Exponent field 31 (Inf, NaN) goes to the reference function too.
  const __m128i e31 = _mm_set1_epi16(31), one = _mm_set1_epi16(1), mag = _mm_set1_epi16(0x7FFF);
  const __m128i es = _mm_and_si128(_mm_srli_epi16(s16, 10), e31), ez = _mm_and_si128(_mm_srli_epi16(z16, 10), e31);
  const __m128i special = _mm_or_si128(_mm_cmpeq_epi16(es, e31), _mm_cmpeq_epi16(ez, e31));
  const __m128i zero = _mm_or_si128(_mm_cmpeq_epi16(_mm_and_si128(s16, mag), _mm_setzero_si128()),
                                    _mm_cmpeq_epi16(_mm_and_si128(z16, mag), _mm_setzero_si128()));
  const __m128i d = _mm_sub_epi16(_mm_max_epi16(es, one), _mm_max_epi16(ez, one));
  const __m128i far = _mm_or_si128(_mm_cmpgt_epi16(d, _mm_set1_epi16(9)), _mm_cmplt_epi16(d, _mm_set1_epi16(-12)));
  const __m128i slow = _mm_or_si128(special, _mm_andnot_si128(zero, far));
  const unsigned slow_rows = static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(slow, slow))) & 0xFFu;

  alignas(32) float s[8], z[8];
  _mm256_store_ps(s, _mm256_cvtph_ps(s16));
  _mm256_store_ps(z, _mm256_cvtph_ps(z16));
  const __m256 c0 = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), c1 = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const auto store = [&](std::size_t r, __m128i h0, __m128i h1) {  // fp16 of codes 0..7, 8..15 -> planes
    const __m128i a = _mm_shuffle_epi8(h0, split), b = _mm_shuffle_epi8(h1, split);  // [lo | hi] of 8 codes
    _mm_store_si128(reinterpret_cast<__m128i*>(t[r].lo), _mm_unpacklo_epi64(a, b));
    _mm_store_si128(reinterpret_cast<__m128i*>(t[r].hi), _mm_unpackhi_epi64(a, b));
  };
#pragma GCC unroll 8
  for (std::size_t r = 0; r < kRows; ++r) {
    const __m256 sb = _mm256_broadcast_ss(s + r), zb = _mm256_broadcast_ss(z + r);
    store(r, _mm256_cvtps_ph(_mm256_fmadd_ps(c0, sb, zb), _MM_FROUND_TO_NEAREST_INT),
          _mm256_cvtps_ph(_mm256_fmadd_ps(c1, sb, zb), _MM_FROUND_TO_NEAREST_INT));
  }
  if (slow_rows) [[unlikely]]
    for (std::size_t r = 0; r < kRows; ++r)
      if (slow_rows >> r & 1) {
        alignas(16) std::uint16_t v[16];
        for (int c = 0; c < 16; ++c) v[c] = ref::fma_f16(c, sp[r], zp[r]);
        store(r, _mm_load_si128(reinterpret_cast<const __m128i*>(v)), _mm_load_si128(reinterpret_cast<const __m128i*>(v + 8)));
      }
}

// The fp16 weights of a 64-column block of one row, 8 columns (16 bytes) each, in the order
// {0-7, 32-39}, {8-15, 40-47}, {16-23, 48-55}, {24-31, 56-63} (32 bytes a register).
struct Block16 {
  __m256i v[4];
};

// Columns 8c .. 8c + 7 of the block: 16 bytes of b at this offset.
inline std::size_t chunk_offset(unsigned c) { return 32 * (c % 4) + 16 * (c / 4); }

inline void decode(const std::int16_t* q, __m256i lo, __m256i hi, Block16& out) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i y = split_bytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  const __m256i n02 = _mm256_and_si256(y, m4), n13 = _mm256_and_si256(_mm256_srli_epi16(y, 4), m4);
  const __m256i a_lo = _mm256_shuffle_epi8(lo, n02), a_hi = _mm256_shuffle_epi8(hi, n02);
  const __m256i b_lo = _mm256_shuffle_epi8(lo, n13), b_hi = _mm256_shuffle_epi8(hi, n13);
  out.v[0] = _mm256_unpacklo_epi8(a_lo, a_hi);  // nibble 0: columns 0-7 | 32-39
  out.v[1] = _mm256_unpacklo_epi8(b_lo, b_hi);  // nibble 1: 8-15 | 40-47
  out.v[2] = _mm256_unpackhi_epi8(a_lo, a_hi);  // nibble 2: 16-23 | 48-55
  out.v[3] = _mm256_unpackhi_epi8(b_lo, b_hi);  // nibble 3: 24-31 | 56-63
}

// 8 fp16 -> f32, a NaN made sign | 0x7FC00000 (the reference converts through its own decoder).
inline __m256 weak_f32(__m128i h) {
  const __m256 v = _mm256_cvtph_ps(h);
  const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  const __m256 canon = _mm256_or_ps(_mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN))),
                                    _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)));
  return _mm256_blendv_ps(v, canon, nan);
}

inline float reduce(__m256 a) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));  // a0+a4, a1+a5, a2+a6, a3+a7
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));                                  // (a0+a4)+(a2+a6), (a1+a5)+(a3+a7)
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// The tables of the two 32-column halves of a block (the same group when group % 64 == 0).
struct Planes {
  const Table* h0;
  const Table* h1;
};

template <bool Same> inline void load_planes(const Planes& p, std::size_t r, __m256i& lo, __m256i& hi) {
  if constexpr (Same) {
    lo = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p.h0[r].lo)));
    hi = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p.h0[r].hi)));
  } else {
    lo = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p.h0[r].lo))),
                                 _mm_load_si128(reinterpret_cast<const __m128i*>(p.h1[r].lo)), 1);
    hi = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p.h0[r].hi))),
                                 _mm_load_si128(reinterpret_cast<const __m128i*>(p.h1[r].hi)), 1);
  }
}

// The 8 accumulators of a pass, one per output row (registers: every index is a constant).
struct Acc {
  __m256 v[kRows];
};

template <class F, std::size_t... R> [[gnu::always_inline]] inline void each_row(F&& f, std::index_sequence<R...>) {
  (f(std::integral_constant<std::size_t, R>{}), ...);
}
template <class F> [[gnu::always_inline]] inline void each_row(F&& f) { each_row(f, std::make_index_sequence<kRows>{}); }

// The fp16 weights of the 64-column block at j of the 8 rows (16 bytes per 8 columns, in the order
// of chunk_offset).
template <bool Same>
[[gnu::always_inline]] inline void decode_rows(const std::int16_t* const* q, std::size_t j, const Planes& p,
                                               std::uint16_t (*f16)[64]) {
  each_row([&](auto r) {
    __m256i lo, hi;
    load_planes<Same>(p, r, lo, hi);
    Block16 b;
    decode(q[r] + j, lo, hi, b);
    for (unsigned c = 0; c < 4; ++c) _mm256_store_si256(reinterpret_cast<__m256i*>(f16[r]) + c, b.v[c]);
  });
}

// One whole 4-bit block (columns j .. j + 63, all < IC - k) of the 8 rows: first the fp16 weights
// of every row to the stack, then per 8 columns one x load and 8 FMAs. The conversions read the
// stack (vcvtph2ps ymm, m128: no vextracti128 and no shuffle uop); the empty asm keeps the compiler
// from turning those loads back into register extracts.
template <bool Same>
[[gnu::always_inline]] inline void block4(const std::int16_t* const* q, std::size_t j, const Planes& p, const float* x,
                                          Acc& acc) {
  alignas(32) std::uint16_t f16[kRows][64];
  // The block's 2 x 128 bytes of qweight (2 qweight rows): prefetched kPrefetchQ bytes ahead.
  for (std::size_t r : {0, 4})
    for (std::size_t b : {0, 64}) prefetch(q[r] + j, kPrefetchQ + b);
  decode_rows<Same>(q, j, p, f16);
  asm("" : "+m"(f16));
#pragma GCC unroll 8
  for (unsigned c = 0; c < 8; ++c) {
    const __m256 xv = _mm256_loadu_ps(x + j + 8 * c);
    each_row([&](auto r) {
      const __m128i h = _mm_load_si128(reinterpret_cast<const __m128i*>(f16[r] + chunk_offset(c) / 2));
      acc.v[r] = _mm256_fmadd_ps(_mm256_cvtph_ps(h), xv, acc.v[r]);
    });
  }
}

// The block holding column IC - k (not a multiple of 64): per 8 columns 4-bit, weak or mixed.
template <bool Same>
[[gnu::noinline]] Acc block_edge(const qeft::Matrix& w, std::size_t o0, const std::int16_t* const* q, std::size_t j,
                                 const Planes& p, const float* x, Acc acc) {
  const std::size_t nonweak = w.ic - w.k;
  alignas(32) std::uint16_t f16[kRows][64];
  decode_rows<Same>(q, j, p, f16);
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::uint16_t* ow = w.oweight + (o0 + r) * w.k;
    for (unsigned c = 0; c < 8; ++c) {
      const std::size_t col = j + 8 * c;
      std::uint16_t h[8];
      const std::uint16_t* four = f16[r] + chunk_offset(c) / 2;
      for (std::size_t t = 0; t < 8; ++t) h[t] = col + t < nonweak ? four[t] : ow[col + t - nonweak];
      __m128i v;
      std::memcpy(&v, h, sizeof v);
      acc.v[r] = _mm256_fmadd_ps(weak_f32(v), _mm256_loadu_ps(x + col), acc.v[r]);
    }
  }
  return acc;
}

// Columns j0 .. IC - 1, all weak (j0 >= IC - k): 8 fp16 of oweight per row and 8 columns.
[[gnu::always_inline]] inline void weak_columns(const qeft::Matrix& w, std::size_t o0, std::size_t j0, const float* x,
                                                Acc& acc) {
  const std::size_t nonweak = w.ic - w.k;
  for (std::size_t j = j0; j < w.ic; j += 8) {
    const __m256 xv = _mm256_loadu_ps(x + j);
    each_row([&](auto r) {
      const std::uint16_t* ow = w.oweight + (o0 + r) * w.k + (j - nonweak);
      acc.v[r] = _mm256_fmadd_ps(weak_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ow))), xv, acc.v[r]);
    });
  }
}

// The 8 rows o0 .. o0 + 7. The columns go in chunks of kChunkGroups groups: first the tables of
// every group of the chunk (independent work, which the out-of-order core overlaps), then its blocks.
template <bool Same> void pass(const qeft::Matrix& w, std::size_t o0, const float* x, float* y) {
  const std::size_t ic = w.ic, nonweak = ic - w.k, group = w.group, halves = group / 32;
  const std::size_t full = nonweak / 64 * 64;                    // columns of whole 4-bit blocks
  const std::size_t edge_end = nonweak % 64 ? full + 64 : full;  // the end of the block holding IC - k
  const std::int16_t* q[kRows];
  for (std::size_t r = 0; r < kRows; ++r) q[r] = w.qweight + (o0 + r) / 4 * ic + 16 * (r % 4);
  // The next pass's stream starts (the first kPrefetchQ bytes of its two qweight rows, its weak
  // columns) into L2 now: the prefetches ahead inside a stream cannot cover its start.
  if (o0 + kRows < w.oc) {
    const std::int16_t* next = w.qweight + (o0 + kRows) / 4 * ic;
    for (std::size_t b = 0; b < kPrefetchQ; b += 64) {
      prefetch_l2(next, b);
      prefetch_l2(next + ic, b);
    }
    if (w.k)
      for (std::size_t b = 0; b < std::min<std::size_t>(kRows * w.k * 2, 4096); b += 64)
        prefetch_l2(w.oweight + (o0 + kRows) * w.k, b);
  }
  Acc acc;
  each_row([&](auto r) { acc.v[r] = _mm256_setzero_ps(); });
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
  each_row([&](auto r) { y[o0 + r] = reduce(acc.v[r]); });
}

void matvec(const qeft::Matrix* wp, const float* x, float* y) {
  const qeft::Matrix& w = *wp;
  for (std::size_t o0 = 0; o0 < w.oc; o0 += kRows) {
    if (w.group % 64 == 0) pass<true>(w, o0, x, y);
    else pass<false>(w, o0, x, y);
  }
}


}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {
using namespace lowbit::avx2;

const qeft::Impl qeft_avx2{.width = 8, .matvec = matvec};

}  // namespace lowbit::kernels
