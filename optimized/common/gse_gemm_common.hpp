// The GSE-INT GEMM C = A B^T, bit-identical to reference/src/gse_gemm.cpp in both accumulation
// modes, written once over an ISA's GEMM policy (its lane policy plus the packing and the integer
// microkernel of gse_gemm_<isa>.cpp; see gemm below). Integer products inside a group: both
// operands are widened to int16 and packed; a kMR x kNR tile of outputs accumulates its group dots
// in int32 lanes, with no horizontal reduction. At each group end the dots go to an epilogue:
//   fp32:  acc = acc + f32(dot * 2^e), lane by lane, groups in order; 2^e is built as an f32
//          (one multiplication where every 2^e of the tile is a normal f32, else split in two
//          factors so that only the last multiplication rounds, as the reference's term does);
//   exact: dot * 2^s (s = e - the lowest e of the row pair) as int32 words of 16-bit weight,
//          folded into an int128 every 512 groups and rounded once at the end to nearest even
//          (the hardware's int64 -> f32 conversion where the result is normal, else pack_nearest
//          as in the reference); spans of 64 bits or more (8-bit exponents far apart) use a
//          scalar multi-limb accumulator.
// The tile's exponent ranges (from the groups that can contribute) pick the epilogue per tile.
// Internal linkage, as every SIMD header (blocks.hpp): each ISA's translation unit compiles its own copy.
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
// every lane stays in the range the tile was planned for; NaN rows are flagged. And the code
// check (gse::GemmFn): the largest |code| (-128 counts 128), in vectors of bytes.
struct Operand {
  std::size_t groups = 0;
  std::vector<std::int32_t> e, lo, hi;
  std::vector<std::uint8_t> nan;
  bool valid = true;  // every code within +-(2^(b-1) - 1)
};

template <class K>
Operand prepare(std::size_t rows, std::size_t k, const std::int8_t* codes, const std::uint8_t* exps, const gse::Format& f) {
  constexpr std::size_t W = sizeof(typename K::B);
  typename K::B range = K::zero_b();
  unsigned tail = 0;  // of the codes past the rows' last whole vector
  Operand o;
  const std::size_t G = f.groups(k), N = static_cast<std::size_t>(f.group);
  o.groups = G;
  o.e.resize(rows * G);
  o.lo.assign(rows, 0);
  o.hi.assign(rows, 0);
  o.nan.assign(rows, 0);
  std::vector<std::uint8_t> live(G);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::int8_t* row = codes + r * k;
    std::size_t t = 0;
    for (; t + W <= k; t += W) range = K::template max_abs<W>(range, row + t);
    for (; t < k; ++t) tail = std::max(tail, static_cast<unsigned>(row[t] < 0 ? -row[t] : row[t]));
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
  o.valid = std::max(K::max_byte(range), tail) <= static_cast<unsigned>(f.max_mantissa());
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

// A tile's group dots: d[i][h] lane l is row i of A, row kLanes h + l of B (kNR = 2 kLanes).
template <class K> using Dots = typename K::U[K::kMR][2];

// dot[i][j]: row i of A, row j of B.
template <class K> void store_dots(std::int32_t (&dot)[K::kMR][K::kNR], const Dots<K>& d) {
  static_assert(K::kNR == 2 * K::kLanes);
  for (std::size_t i = 0; i < K::kMR; ++i) {
    K::store(dot[i], d[i][0]);
    K::store(dot[i] + K::kLanes, d[i][1]);
  }
}

// A block of R rows: int16 codes as [k / kStep][R][kStep] (kStep consecutive k per row), zero past
// k and in padding rows; exponents as [groups][R]. Padding rows repeat the last row's exponents.
template <class K, std::size_t R>
Block pack_rows(const std::int8_t* codes, std::size_t k, std::size_t kp, const Operand& o, std::size_t r0,
                std::size_t valid, bool shift, std::int16_t* out, std::int32_t* exps) {
  constexpr std::size_t kStep = K::kStep;
  const std::int8_t* rows[R];
  for (std::size_t rr = 0; rr < R; ++rr) rows[rr] = rr < valid ? codes + (r0 + rr) * k : nullptr;
  const std::size_t kv = k / K::kPackK * K::kPackK;  // in vectors: kPackK codes of every row a step
  for (std::size_t t = 0; t < kv; t += K::kPackK) K::template pack<R>(rows, t, out + t * R);
  std::memset(out + kv * R, 0, (kp - kv) * R * sizeof(std::int16_t));
  for (std::size_t rr = 0; rr < valid; ++rr)
    for (std::size_t t = kv; t < k; ++t) out[t / kStep * kStep * R + rr * kStep + t % kStep] = rows[rr][t];
  Block b{std::numeric_limits<int>::max(), std::numeric_limits<int>::min(), 0};
  for (std::size_t rr = 0; rr < R; ++rr) {
    const std::size_t r = r0 + std::min(rr, valid - 1);
    const int base = shift ? o.lo[r] : 0;
    for (std::size_t g = 0; g < o.groups; ++g) exps[g * R + rr] = o.e[r * o.groups + g] - base;
    b.lo = std::min(b.lo, o.lo[r]);
    b.hi = std::max(b.hi, o.hi[r]);
    b.span = std::max(b.span, o.hi[r] - o.lo[r]);
  }
  return b;
}

// 2^e for e in [-126, 127].
template <class K> typename K::F pow2(typename K::U e) { return K::as_f(K::template shl<23>(K::add(e, K::splat(127)))); }

// fp32: acc = acc + f32(dot * 2^e), where f32() rounds to nearest even, overflows to Inf and
// keeps subnormals (the default floating-point environment), as pack_nearest rounds the
// reference's term. kNormal: every e of the tile lies in [-126, 127], so 2^e is a normal f32 and
// one multiplication of exact operands is that rounding (exact unless it overflows). Otherwise e is
// clamped to [-200, 200] (beyond, the term is +-0 or +-Inf either way) and split e = e1 + e2, e2 in
// {-100, 0, 100}, with dot * 2^e1 exact (|dot| <= 2^22): the one rounding is the multiplication by
// 2^e2. K::keep stops the compiler from fusing a multiplication with the next operation.
template <class K, bool kNormal> struct Fp32Epilogue {
  using U = typename K::U;
  using F = typename K::F;
  static constexpr std::size_t kMR = K::kMR, kNR = K::kNR, L = K::kLanes;
  const std::int32_t* ea;  // [groups][kMR]
  const std::int32_t* eb;  // [groups][kNR]
  F acc[kMR][2];

  Fp32Epilogue(const std::int32_t* a, const std::int32_t* b) : ea(a), eb(b) {
    for (auto& row : acc) row[0] = row[1] = K::zero_f();
  }

  void operator()(std::size_t g, const Dots<K>& d) {
    const U b[2] = {K::load(eb + g * kNR), K::load(eb + g * kNR + L)};
    for (std::size_t i = 0; i < kMR; ++i) {
      const U a = K::splat(static_cast<std::uint32_t>(ea[g * kMR + i]));
      for (std::size_t h = 0; h < 2; ++h) {
        const F dot = K::to_f(d[i][h]);  // exact: |dot| <= 2^22
        const U e = K::add(a, b[h]);
        F term;
        if constexpr (kNormal) {
          term = K::mul(dot, pow2<K>(e));
          K::keep(term);
        } else {
          const U ec = K::max_s(K::min_s(e, K::splat(200)), K::splat(static_cast<std::uint32_t>(-200)));
          const U small = K::gt(K::splat(static_cast<std::uint32_t>(-126)), ec), large = K::gt(ec, K::splat(127));
          const U e2 = K::or_(K::and_(small, K::splat(static_cast<std::uint32_t>(-100))), K::and_(large, K::splat(100)));
          term = K::mul(dot, pow2<K>(K::sub(ec, e2)));
          K::keep(term);
          term = K::mul(term, pow2<K>(e2));
          K::keep(term);
        }
        acc[i][h] = K::add(acc[i][h], term);
      }
    }
  }

  void finish(float (&out)[kMR][kNR]) {
    for (std::size_t i = 0; i < kMR; ++i) {
      K::store(out[i], acc[i][0]);
      K::store(out[i] + L, acc[i][1]);
    }
  }
};

// exact, the tile's exponent span below 64: s = e - (lowest e of row i) - (lowest e of row j),
// in [0, 63] wherever the dot can be non-zero. dot * 2^s is split into int32 words:
//   r = s mod 32:  dot << r = hi * 2^32 + lo, lo unsigned = lo_h * 2^16 + lo_l
// so that the words of weight 2^0, 2^16, 2^32 (and 2^32, 2^48, 2^64 when s >= 32) take values
// below 2^21 each: 512 groups fit in int32 before the fold into int128.
template <class K, bool kTwoLimbs> struct ExactEpilogue {
  using U = typename K::U;
  static constexpr std::size_t kMR = K::kMR, kNR = K::kNR, L = K::kLanes;
  static constexpr std::size_t kWords = kTwoLimbs ? 5 : 3;
  const std::int32_t* sa;  // [groups][kMR]: e - lowest e of the row
  const std::int32_t* sb;
  U w[kMR][2][kWords];
  i128 total[kMR][kNR] = {};
  std::size_t pending = 0;

  ExactEpilogue(const std::int32_t* a, const std::int32_t* b) : sa(a), sb(b) { clear(); }

  void clear() {
    for (auto& row : w)
      for (auto& half : row)
        for (auto& word : half) word = K::zero();
  }

  void operator()(std::size_t g, const Dots<K>& d) {
    const U b[2] = {K::load(sb + g * kNR), K::load(sb + g * kNR + L)};
    const U low16 = K::splat(0xFFFF), n32 = K::splat(32);
    for (std::size_t i = 0; i < kMR; ++i) {
      const U a = K::splat(static_cast<std::uint32_t>(sa[g * kMR + i]));
      for (std::size_t h = 0; h < 2; ++h) {
        U* x = w[i][h];
        const U s = K::add(a, b[h]);
        const U r = kTwoLimbs ? K::and_(s, K::splat(31)) : s;
        const U lo = K::shl_v(d[i][h], r);
        const U hi = K::sra_v(d[i][h], K::sub(n32, r));  // r = 0: the sign
        const U lo_l = K::and_(lo, low16), lo_h = K::template shr<16>(lo);
        if constexpr (!kTwoLimbs) {
          x[0] = K::add(x[0], lo_l);
          x[1] = K::add(x[1], lo_h);
          x[2] = K::add(x[2], hi);
        } else {
          const U up = K::template sra<31>(K::template shl<26>(s));  // s >= 32: 32 bits up
          x[0] = K::add(x[0], K::and_not(lo_l, up));
          x[1] = K::add(x[1], K::and_not(lo_h, up));
          x[2] = K::add(x[2], K::select(up, lo_l, hi));
          x[3] = K::add(x[3], K::and_(up, lo_h));
          x[4] = K::add(x[4], K::and_(up, hi));
        }
      }
    }
    if (++pending == kFlush) flush();
  }

  void flush() {
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t h = 0; h < 2; ++h) {
        std::int32_t v[kWords][L];
        for (std::size_t t = 0; t < kWords; ++t) K::store(v[t], w[i][h][t]);
        for (std::size_t l = 0; l < L; ++l)
          for (std::size_t t = 0; t < kWords; ++t) total[i][L * h + l] += static_cast<i128>(v[t][l]) << (16 * t);
      }
    clear();
    pending = 0;
  }

  void finish(float (&out)[kMR][kNR], const std::int32_t* lo_a, const std::int32_t* lo_b) {
    flush();
    for (std::size_t i = 0; i < kMR; ++i)
      for (std::size_t j = 0; j < kNR; ++j) out[i][j] = round_i128(total[i][j], lo_a[i] + lo_b[j]);
  }
};

// exact, any span: per output, base-2^32 limbs in int64, dot << (s mod 32) added at limb s / 32.
template <class K> struct WideEpilogue {
  static constexpr std::size_t kMR = K::kMR, kNR = K::kNR;
  const std::int32_t* sa;
  const std::int32_t* sb;
  std::size_t count;        // limbs per output
  std::int64_t* limbs;      // [kMR * kNR][count], zeroed
  std::size_t pending = 0;

  void operator()(std::size_t g, const Dots<K>& d) {
    std::int32_t dot[kMR][kNR];
    store_dots<K>(dot, d);
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

// The GEMM over an ISA's GEMM policy K, which adds to its lane policy: kMR x kNR, the output tile
// (rows of A x rows of B, kNR = 2 lanes); kStep, the k per microkernel step (the packed layout's
// consecutive k per row); pack<R>(rows, t, out), packing codes t .. t + kPackK - 1 of R rows;
// run_tile(a, b, groups, steps, epilogue), handing each group's Dots<K> to the epilogue.
template <class K>
bool gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
          const std::int8_t* b, const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  constexpr std::size_t kMR = K::kMR, kNR = K::kNR, kStep = K::kStep;
  if (m == 0 || n == 0) return true;
  const std::size_t groups = p->a.groups(k), N = static_cast<std::size_t>(p->a.group);
  if (groups == 0) {
    std::fill(c, c + m * n, 0.0f);
    return true;
  }
  const bool exact = p->accumulate == gse::Accumulate::exact;
  const Operand A = prepare<K>(m, k, a, a_exps, p->a), B = prepare<K>(n, k, b, b_exps, p->b);
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
      ablocks[ib] = pack_rows<K, kMR>(a, k, kp, A, i0 + ib * kMR, std::min(kMR, rows - ib * kMR), exact,
                                                 apack.p + ib * kMR * kp, aexp.p + ib * kMR * groups);
    for (std::size_t j0 = 0; j0 < n; j0 += kNR) {
      const std::size_t cols = std::min(kNR, n - j0);
      const Block bb = pack_rows<K, kNR>(b, k, kp, B, j0, cols, exact, bpack.p, bexp.p);
      std::int32_t lo_b[kNR];
      for (std::size_t j = 0; j < kNR; ++j) lo_b[j] = B.lo[j0 + std::min(j, cols - 1)];
      for (std::size_t ib = 0; ib < blocks; ++ib) {
        const std::size_t r0 = i0 + ib * kMR, valid = std::min(kMR, m - r0);
        const std::int16_t* ap = apack.p + ib * kMR * kp;
        const std::int32_t* ea = aexp.p + ib * kMR * groups;
        const Block& ab = ablocks[ib];
        std::int32_t lo_a[kMR];
        for (std::size_t i = 0; i < kMR; ++i) lo_a[i] = A.lo[r0 + std::min(i, valid - 1)];
        float out[kMR][kNR];
        if (!exact) {
          if (ab.lo + bb.lo >= -126 && ab.hi + bb.hi <= 127) {
            Fp32Epilogue<K, true> epi(ea, bexp.p);
            K::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out);
          } else {
            Fp32Epilogue<K, false> epi(ea, bexp.p);
            K::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out);
          }
        } else {
          const int span = ab.span + bb.span;
          if (span < 32) {
            ExactEpilogue<K, false> epi(ea, bexp.p);
            K::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          } else if (span < 64) {
            ExactEpilogue<K, true> epi(ea, bexp.p);
            K::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          } else {
            const std::size_t count = static_cast<std::size_t>(span >> 5) + 3;  // two limbs of carry room
            limbs.assign(kMR * kNR * count, 0);
            WideEpilogue<K> epi{ea, bexp.p, count, limbs.data()};
            K::run_tile(ap, bpack.p, groups, N / kStep, epi);
            epi.finish(out, lo_a, lo_b);
          }
        }
        for (std::size_t i = 0; i < valid; ++i)
          for (std::size_t j = 0; j < cols; ++j)
            c[(r0 + i) * n + j0 + j] = A.nan[r0 + i] || B.nan[j0 + j] ? std::numeric_limits<float>::quiet_NaN() : out[i][j];
      }
    }
  }
  return A.valid && B.valid;
}

}  // namespace
}  // namespace lowbit::simd
