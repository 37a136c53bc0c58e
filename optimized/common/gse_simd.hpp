// The GSE-INT SIMD kernels, written once over an ISA's lane policy (optimized/<isa>/isa.hpp). A
// kernel works one group of N a step: the group's largest |x| (the maximum of the f32 bit patterns
// with the sign cleared) decides everything in scalar code (plan_group); the lanes then compute
// round(x * 2^(b-2-E)) with an exact power-of-two scale and the policy's explicit rounding mode.
// sr, and group sizes that validate() rejects, call the reference (documented: scalar).
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "common/blocks.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/reference/gse.hpp"

// Internal linkage, as in fp8_simd.hpp: each ISA's translation unit gets its own copy.
namespace lowbit::simd {
namespace {

// 2^k as an f32, for k in [-126, 127] (a normal number, never subnormal).
inline float pow2(int k) { return std::bit_cast<float>(static_cast<std::uint32_t>(k + 127) << 23); }

// Calls f.template operator()<N>() for the group size N, so that every loop is compiled per N;
// false for a size that validate() rejects (the caller then runs the reference).
template <class F> bool with_group_size(int n, F&& f) {
  switch (n) {
    case 16: f.template operator()<16>(); return true;
    case 32: f.template operator()<32>(); return true;
    case 64: f.template operator()<64>(); return true;
    case 128: f.template operator()<128>(); return true;
    case 256: f.template operator()<256>(); return true;
    default: return false;
  }
}

struct GseEncodeConstants {
  int emin, emax;          // the range of group exponents E
  int q;                   // b - 2: |x| * 2^(q - E) is the element's mantissa before rounding
  int field_bias;          // exp_bias - exp_offset: the field of E is E + field_bias
  std::uint8_t nan_field;  // all ones
  std::int32_t max;        // 2^(b-1) - 1
  float limit;             // |x| * 2^(q - E) >= limit rounds past max: max + 1/2 (rne, rna), max + 1 (rtz)
  bool bump, nan_on_overflow;
};

inline GseEncodeConstants encode_constants(const gse::EncodeParams& p) {
  const gse::Format& f = p.format;
  return {f.emin(),
          f.emax(),
          f.bits - 2,
          f.exp_bias - f.exp_offset,
          static_cast<std::uint8_t>(f.nan_field()),
          f.max_mantissa(),
          static_cast<float>(f.max_mantissa()) + (p.rounding == Rounding::rtz ? 1.0f : 0.5f),
          f.mantissa_overflow == gse::MantissaOverflow::bump,
          f.exponent_overflow == gse::ExponentOverflow::nan};
}

// What the lanes of one group do.
struct GsePlan {
  enum Kind : std::uint8_t {
    lanes,      // code = round(x * scale): no element reaches past max
    saturate,   // the same, and lanes with |x * scale| >= limit become +-max (counted)
    nan,        // every code 0, the field all ones
    reference,  // non-zero, E < b - 127 (max < 2^(b-127), emin <= b - 128): the reference encodes it
  } kind;
  std::uint8_t field;
  float scale;  // 2^(q - E) with q - E <= 125: a normal f32, products exact unless below 2^-126 (then
                // rounding to 0 anyway), and an f32 subnormal x gives |x * scale| < 1/2: code 0 even under DAZ
};

// The reference's per-group decisions (reference/src/gse.cpp encode_group) from amax, the f32 bits
// of the group's largest |x|; counts the group in `s` unless the plan is `reference`. Rounding is
// monotone, so the group overflows past max iff its largest element does: one scalar test.
inline GsePlan plan_group(std::uint32_t amax, const GseEncodeConstants& k, BlockStats& s) {
  if (amax >= 0x7F800000u) {  // Inf or NaN: no NaN pattern is below the Inf pattern
    ++s.groups;
    ++s.nan_groups;
    return {GsePlan::nan, k.nan_field, 0.0f};
  }
  int e = static_cast<int>(amax >> 23) - 127;  // -127 for an f32 subnormal or zero maximum
  if (amax != 0 && k.q - std::max(e, k.emin) > 125) return {GsePlan::reference, 0, 0.0f};
  ++s.groups;
  if (amax != 0 && e < k.emin) ++s.exp_underflow;
  if (e > k.emax) {
    ++s.exp_overflow;
    if (k.nan_on_overflow) {
      ++s.nan_groups;
      return {GsePlan::nan, k.nan_field, 0.0f};
    }
  }
  e = std::clamp(e, k.emin, k.emax);
  for (;;) {
    // q - e lies in [-126, 125] here, or above 125 for an all-zero group (any scale gives 0 then).
    const float scale = pow2(std::min(k.q - e, 125));
    const auto field = static_cast<std::uint8_t>(e + k.field_bias);
    if (std::bit_cast<float>(amax) * scale < k.limit) return {GsePlan::lanes, field, scale};
    if (!k.bump || e == k.emax) return {GsePlan::saturate, field, scale};
    ++e;  // one binade up and round again: now every element fits
    ++s.bumped;
  }
}

// Decoding: code * 2^d with d = E - (b - 2) = field + decode_shift(f).
inline int decode_shift(const gse::Format& f) { return f.exp_offset - f.exp_bias - (f.bits - 2); }

// For d in [-126, 120] the f32 product code * 2^d is exact and normal (or zero) in any floating-point
// environment, and so are its bf16 upper halves (8 significant bits at most).
inline bool exact_f32(int d) { return d >= -126 && d <= 120; }

template <class Out> void fill_quiet_nan(Out* out, std::size_t n) {
  using Traits = FloatTraits<Out>;
  const auto bits = static_cast<typename Traits::Bits>(sizeof(Out) == 4 ? 0x7FC00000u
                                                       : std::is_same_v<Out, f16> ? 0x7E00u : 0x7FC0u);
  std::fill(out, out + n, Traits::from_bits(bits));
}

// A group whose products may be inexact (extreme exponent fields): +0 if every code is 0 (an
// all-zero MXINT8 group has field 0), else the reference.
template <class Out> void decode_group_scalar(std::size_t n, const std::int8_t* codes, std::uint8_t field, Out* out,
                                              const gse::Format& f) {
  if (std::all_of(codes, codes + n, [](std::int8_t c) { return c == 0; }))
    std::fill(out, out + n, FloatTraits<Out>::from_bits(0));
  else
    ref::gse_decode_ref<Out>(n, codes, &field, out, &f);  // the codes are checked by the caller
}

// ---- the kernels over an ISA I ----

// The largest f32 bit pattern with the sign cleared: integer order is magnitude order, NaN above Inf.
template <class I, std::size_t N, class In> std::uint32_t gse_amax_bits(const In* in) {
  typename I::U m = I::zero();
  for (std::size_t j = 0; j < N; j += I::kLanes) m = I::max_u(m, I::and_(I::as_u(I::load(in + j)), I::splat(0x7FFFFFFF)));
  return I::max_lane(m);
}

// Vectors a batch of a group of N: 4, or fewer when the group is shorter.
template <class I, std::size_t N> constexpr std::size_t kGseBatch = std::min<std::size_t>(4, N / I::kLanes);

// The group's N codes, lanes(j) giving those of elements j.. as int32 lanes within +-127.
template <class I, std::size_t N, class Lanes> void gse_store_codes(std::int8_t* out, Lanes&& lanes) {
  constexpr std::size_t K = kGseBatch<I, N>;
  for (std::size_t j = 0; j < N; j += K * I::kLanes) {
    typename I::U v[K];
    for (std::size_t k = 0; k < K; ++k) v[k] = lanes(j + k * I::kLanes);
    I::store(out + j, v);
  }
}

template <class I, std::size_t N, Rounding R, class In>
void gse_encode_groups(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams& p,
                       BlockStats& stats) {
  using U = typename I::U;
  using F = typename I::F;
  const GseEncodeConstants k = encode_constants(p);
  const F limit = I::splat_f(k.limit);
  const U max = I::splat(static_cast<std::uint32_t>(k.max)), min = I::splat(static_cast<std::uint32_t>(-k.max));
  for_each_block<N>(n, in, codes, [&](const In* i, std::int8_t* o) {
    std::uint8_t& field = *exps++;
    const GsePlan plan = plan_group(gse_amax_bits<I, N>(i), k, stats);
    field = plan.field;
    const F scale = I::splat_f(plan.scale);
    switch (plan.kind) {
      case GsePlan::lanes:
        return gse_store_codes<I, N>(o, [&](std::size_t j) { return I::template round<R>(I::mul(I::load(i + j), scale)); });
      case GsePlan::saturate: {  // rare: a maximum rounded past max, or the exponent overflowed
        std::uint64_t saturated = 0;
        gse_store_codes<I, N>(o, [&](std::size_t j) {
          const F s = I::mul(I::load(i + j), scale);
          const U over = I::ge(I::abs(s), limit);  // Inf too
          saturated += I::popcount(over);
          return I::select(over, I::select(I::template sra<31>(I::as_u(s)), min, max), I::template round<R>(s));
        });
        stats.saturated += saturated;  // padding zeros of a short group never count
        return;
      }
      case GsePlan::nan: std::fill(o, o + N, std::int8_t{0}); return;
      case GsePlan::reference: ref::gse_encode_ref<In>(N, i, o, &field, &p, &stats); return;
    }
  });
}

template <class I, class In>
void gse_encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
                BlockStats* stats) {
  if (p->rounding == Rounding::sr) return ref::gse_encode_ref(n, in, codes, exps, p, stats);
  BlockStats local;
  const bool done = with_group_size(p->format.group, [&]<std::size_t N>() {
    if (p->rounding == Rounding::rne) gse_encode_groups<I, N, Rounding::rne>(n, in, codes, exps, *p, local);
    else if (p->rounding == Rounding::rtz) gse_encode_groups<I, N, Rounding::rtz>(n, in, codes, exps, *p, local);
    else gse_encode_groups<I, N, Rounding::rna>(n, in, codes, exps, *p, local);
  });
  if (!done) return ref::gse_encode_ref(n, in, codes, exps, p, stats);
  if (stats) *stats += local;
}

// Decodes and checks the codes (gse::DecodeFn): the largest |code| of the call, collected a vector of
// bytes at a time (-128 counts 128), must not exceed 2^(b-1) - 1.
template <class I, std::size_t N, class Out>
bool gse_decode_groups(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format& f) {
  constexpr std::size_t K = kGseBatch<I, N>;
  const int shift = decode_shift(f);
  typename I::B range = I::zero_b();
  for_each_block<N>(n, codes, out, [&](const std::int8_t* c, Out* o) {
    range = I::template max_abs<N>(range, c);
    const std::uint8_t field = *exps++;
    if (field == f.nan_field()) return fill_quiet_nan(o, N);
    int d = field + shift;
    // f16: below d = -126 every result is +-0, above 127 +-Inf (or +0), so the clamp changes nothing.
    if constexpr (std::is_same_v<Out, f16>) d = std::clamp(d, -126, 127);
    else if (!exact_f32(d)) return decode_group_scalar(N, c, field, o, f);
    const typename I::F scale = I::splat_f(pow2(d));
    for (std::size_t j = 0; j < N; j += K * I::kLanes) {
      typename I::U v[K];
      typename I::F x[K];
      I::load(c + j, v);
      for (std::size_t k = 0; k < K; ++k) x[k] = I::mul(I::to_f(v[k]), scale);
      I::store(o + j, x);  // f16: one rounding of the exact product; bf16: exact (8 significant bits)
    }
  });
  return I::max_byte(range) <= static_cast<unsigned>(f.max_mantissa());
}

template <class I, class Out>
bool gse_decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  bool valid = false;
  if (!with_group_size(f->group, [&]<std::size_t N>() { valid = gse_decode_groups<I, N>(n, codes, exps, out, *f); }))
    return ref::gse_decode_ref(n, codes, exps, out, f);
  return valid;
}

// An ISA's GSE row of the kernel list.
template <class I> constexpr gse::Impl gse_impl() {
  return {.width = 4 * I::kLanes,
          .encode_f32 = gse_encode<I, float>,
          .encode_f16 = gse_encode<I, f16>,
          .encode_bf16 = gse_encode<I, bf16>,
          .decode_f32 = gse_decode<I, float>,
          .decode_f16 = gse_decode<I, f16>,
          .decode_bf16 = gse_decode<I, bf16>};
}

}  // namespace
}  // namespace lowbit::simd
