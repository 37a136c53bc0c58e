// The MX SIMD kernels, written once over an ISA's lane policy (optimized/<isa>/isa.hpp): blocks of 32
// (blocks.hpp). A block's largest |x| (the maximum of the f32 patterns with the sign cleared, as GSE's)
// gives X = max(floor(log2 amax) - emax, -127) in scalar code, exactly as the reference's
// gse_raw_exponent; the lanes then round x * 2^-X with the FP8 encoder of the element format
// (fp8_simd.hpp), its constants moved by X, in a block that saturates with |x| clamped to max * 2^X
// first (rounding is monotone, so that is the reference's saturation). MXINT8 is the GSE kernel of
// gse::mxint8_format(); sr calls the reference (docs/formats/mx.md section 6).
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "common/blocks.hpp"
#include "common/fp8_simd.hpp"
#include "common/gse_simd.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/reference/mx.hpp"

// Internal linkage, as in fp8_simd.hpp: each ISA's translation unit gets its own copy.
namespace lowbit::simd {
namespace {

// The minifloat format of an MX element (the OCP element types are ml_dtypes' fn formats).
constexpr fp8::Format element_format(mx::Format f) {
  switch (f) {
    case mx::Format::fp8_e5m2: return fp8::Format::e5m2;
    case mx::Format::fp6_e3m2: return fp8::Format::e3m2;
    case mx::Format::fp6_e2m3: return fp8::Format::e2m3;
    case mx::Format::fp4_e2m1: return fp8::Format::e2m1;
    default: return fp8::Format::e4m3;
  }
}
static_assert([] {
  for (const mx::Traits& t : mx::kFormats) {
    if (t.format == mx::Format::int8) continue;
    const fp8::Traits& e = traits(element_format(t.format));
    if (e.layout.exp_bits != t.element.exp_bits || e.layout.man_bits != t.element.man_bits || e.layout.bias_offset != 0 ||
        e.max_finite() != t.max_code || e.sign_bit() != mx::sign_bit(t) || (e.max_finite() >> e.layout.man_bits) - e.layout.bias() != t.emax)
      return false;
  }
  return true;
}());

struct MxEncodeConstants {
  Fp8EncodeConstants element;   // the element format's rounding (rna: rtz's, see MxElements::code)
  int emax;                     // X = floor(log2 amax) - emax
  int exact_min;                // X below this: an f32 subnormal x (DAZ reads it as 0) might not round to 0,
                                // so the reference encodes the block (amax below about 2^-100)
  std::uint32_t max_bits;       // f32 bits of the largest element: |x * 2^-X| is clamped to it
  std::uint32_t saturates_from; // f32 bits of the smallest |x * 2^-X| that rounds past max (BlockStats::saturated)
};

constexpr MxEncodeConstants mx_encode_constants(mx::Format format, Rounding r) {
  const mx::Traits& t = traits(format);
  const fp8::Traits& e = traits(element_format(format));
  const Fp8EncodeConstants k = encode_constants(
      {element_format(format), r == Rounding::rne ? r : Rounding::rtz, true, true, false, false, fp8::NanEncode::keep_sign,
       fp8::BelowRange::nan, 0, 0, nullptr},
      kF32Layout);
  // max and the next value of the grid, above it in the same binade or the next; the midpoint of
  // the two rounds up in rna, and in rne where the code above max is even (every format but E4M3).
  const std::uint32_t max = code_f32_bits(e, t.max_code), next = code_f32_bits(e, t.max_code + 1u);
  const std::uint32_t mid = std::bit_cast<std::uint32_t>((std::bit_cast<float>(max) + std::bit_cast<float>(next)) / 2);
  const std::uint32_t from = r == Rounding::rtz ? next : r == Rounding::rna || (t.max_code & 1) ? mid : mid + 1;
  // |x| < 2^-126 gives |x * 2^-X| < 2^(-126-X) <= 2^(emin-m-1), half the smallest subnormal: code 0 in every mode.
  return {k, t.emax, -125 - e.layout.emin() + e.layout.man_bits, max, from};
}

// The element codes of a block with scale 2^X. The f32 patterns of x and x * 2^-X differ by X in the
// exponent field, so that the FP8 encoder's constants moved by X (set_scale) round x itself: a
// normal result's rebias, the smallest normal, the subnormal scale (normal f32 values for every X
// from exact_min up).
template <class I, Rounding R> class MxElements {
 public:
  using U = typename I::U;

  explicit MxElements(const MxEncodeConstants& k)
      : k_(k), enc_(k.element), rebias_(enc_.rebias), sign32_(I::splat(0x80000000u)), first_dropped_(I::splat(1u << (k.element.drop - 1))),
        half_(I::splat_f(0.5f)) {}

  void set_scale(int X) {
    const auto shift = [X](int bits) { return static_cast<std::uint32_t>(X) << bits; };  // modulo 2^32: X may be negative
    enc_.rebias = I::add(rebias_, I::splat(shift(static_cast<int>(k_.element.man_bits))));
    enc_.min_normal = I::splat(k_.element.min_normal + shift(23));
    enc_.subnormal_scale = I::splat_f(k_.element.subnormal_scale * pow2(-X));
    max_ = I::splat(k_.max_bits + shift(23));
    saturates_from_ = k_.saturates_from + shift(23);
  }
  // Does some |x| up to amax (f32 bits) round past max? Rounding is monotone: one scalar test.
  bool saturates(std::uint32_t amax) const { return amax >= saturates_from_; }

  // The code of each lane of x (f32 patterns): the sign kept unless the magnitude is 0 (MX writes +0).
  // kSaturates: |x| is clamped to max first, then rounds to it.
  template <bool kSaturates> U code(U x) const {
    const U abs = I::and_(x, enc_.abs_mask);
    if constexpr (kSaturates) x = I::or_(I::min_u(abs, max_), I::and_(x, sign32_));
    U range = I::zero();  // every lane is within the fast path's range (below the saturation point)
    U c = enc_.template fast<R == Rounding::rne, false>(x, range);
    if constexpr (R == Rounding::rna) {  // ties away: truncated, plus 1 where the first bit dropped is 1
      const U a = I::and_(x, enc_.abs_mask);
      const typename I::F units = I::mul(I::as_f(a), enc_.subnormal_scale);  // a subnormal result's, exact
      const U sub_up = I::ge(units, I::add(I::to_f(I::template round<Rounding::rtz>(units)), half_));
      const U normal_up = I::eq(I::and_(a, first_dropped_), first_dropped_);
      c = I::sub(c, I::select(I::gt(enc_.min_normal, a), sub_up, normal_up));  // masks: -1 adds 1
    }
    return I::and_not(c, I::eq(c, enc_.sign_bit));
  }
  unsigned saturated(U x) const { return I::popcount(I::gt(I::and_(x, enc_.abs_mask), I::splat(saturates_from_ - 1))); }

 private:
  const MxEncodeConstants& k_;
  Fp8Encoder<I> enc_;
  U rebias_, sign32_, first_dropped_, max_;
  typename I::F half_;
  std::uint32_t saturates_from_ = 0;
};

// Blocks taken together: first the maxima of them all (independent of each other, so that the long chain
// from a block's loads to its scale overlaps the others'), then their elements.
constexpr std::size_t kMxChunkBlocks = 16;

template <class I, Rounding R>
void mx_encode_blocks(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams& p,
                      BlockStats& stats) {
  constexpr std::size_t L = I::kLanes, B = mx::kBlock;
  const MxEncodeConstants k = mx_encode_constants(p.format, R);
  MxElements<I, R> el(k);
  for (std::size_t c0 = 0; c0 < n; c0 += kMxChunkBlocks * B) {
    const std::size_t chunk = std::min(kMxChunkBlocks * B, n - c0);
    std::uint32_t amax[kMxChunkBlocks];
    for (std::size_t b = 0; b * B < chunk; ++b) {
      const float* x = in + c0 + b * B;
      if (chunk - b * B >= B) {
        amax[b] = gse_amax_bits<I, B>(x);
        continue;
      }
      amax[b] = 0;  // the stream's last block, short
      for (std::size_t i = 0; i < chunk - b * B; ++i) amax[b] = std::max(amax[b], std::bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu);
    }
    const std::uint32_t* block_amax = amax;  // the block for_each_block hands over: in order, the padded one last
    for_each_block<B>(chunk, in + c0, codes + c0, [&](const float* x, std::uint8_t* o) {
      std::uint8_t& scale = *scales++;
      const std::uint32_t a = *block_amax++;
      const int X = std::max(static_cast<int>(a >> 23) - 127 - k.emax, -127);
      if (a < 0x7F800000u && X < k.exact_min) return ref::mx_encode_ref(B, x, o, &scale, &p, &stats);
      ++stats.groups;
      if (a >= 0x7F800000u) {  // Inf or NaN: a NaN scale, every code 0
        ++stats.nan_groups;
        scale = mx::kE8m0Nan;
        std::fill(o, o + B, std::uint8_t{0});
        return;
      }
      scale = static_cast<std::uint8_t>(X + 127);
      el.set_scale(X);
      auto lanes = [&]<bool kSaturates>() {
        std::uint64_t saturated = 0;  // padding zeros of a short block never count
        for (std::size_t j = 0; j < B; j += 4 * L) {
          typename I::U c[4];
          for (std::size_t v = 0; v < 4; ++v) {
            const typename I::U xv = I::as_u(I::load(x + j + v * L));
            c[v] = el.template code<kSaturates>(xv);
            if constexpr (kSaturates) saturated += el.saturated(xv);
          }
          I::store(o + j, c);
        }
        stats.saturated += saturated;
      };
      if (el.saturates(a)) lanes.template operator()<true>();
      else lanes.template operator()<false>();
    });
  }
}

template <class I>
void mx_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
               BlockStats* stats) {
  if (p->format == mx::Format::int8) {
    const gse::EncodeParams g{gse::mxint8_format(), p->rounding, p->seed, p->index0, nullptr};
    return gse_encode<I, float>(n, in, reinterpret_cast<std::int8_t*>(codes), scales, &g, stats);
  }
  BlockStats local;
  switch (p->rounding) {
    case Rounding::rne: mx_encode_blocks<I, Rounding::rne>(n, in, codes, scales, *p, local); break;
    case Rounding::rna: mx_encode_blocks<I, Rounding::rna>(n, in, codes, scales, *p, local); break;
    case Rounding::rtz: mx_encode_blocks<I, Rounding::rtz>(n, in, codes, scales, *p, local); break;
    case Rounding::sr: return ref::mx_encode_ref(n, in, codes, scales, p, stats);
  }
  if (stats) *stats += local;
}

// The element decoder: every code is a number (E4M3's 0x7F is 480, E5M2's 0x7C 2^16), as in the
// reference's mx_element_value.
constexpr Fp8DecodeConstants mx_decode_constants(mx::Format f) {
  Fp8DecodeConstants k = decode_constants({element_format(f), fp8::NanDecode::keep_sign_quiet});
  k.special = 0x100;  // none
  k.top_above = k.mag_mask;
  return k;
}

template <class I> void mx_decode_blocks(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out,
                                         const mx::DecodeParams& p) {
  using U = typename I::U;
  constexpr std::size_t L = I::kLanes;
  const Fp8Decoder<I> dec(mx_decode_constants(p.format));
  const fp8::Traits& e = traits(element_format(p.format));
  // Products v * 2^X exact and normal in any floating-point environment: the smallest non-zero v
  // is 2^(emin-m), the largest below 2^(top+1) for the all-ones code; beyond, the reference.
  const int lo = -126 - e.layout.emin() + e.layout.man_bits, hi = 127 - ((e.all_ones() >> e.layout.man_bits) - e.layout.bias());
  const U minus_zero = I::splat(0x80000000u);
  for_each_block<mx::kBlock>(n, codes, out, [&](const std::uint8_t* c, float* o) {
    const std::uint8_t& scale = *scales++;
    if (scale == mx::kE8m0Nan) return fill_quiet_nan(o, mx::kBlock);
    const int X = scale - 127;
    if (X < lo || X > hi) return ref::mx_decode_ref(mx::kBlock, c, &scale, o, &p);
    const typename I::F s = I::splat_f(pow2(X));
    for (std::size_t j = 0; j < mx::kBlock; j += 4 * L) {
      U v[4];
      typename I::F y[4];
      I::load(c + j, v);
      for (std::size_t k = 0; k < 4; ++k) {
        const U bits = dec.decode(v[k]);
        y[k] = I::mul(I::as_f(I::and_not(bits, I::eq(bits, minus_zero))), s);  // a zero code decodes as +0
      }
      I::store(o + j, y);
    }
  });
}

template <class I>
void mx_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p) {
  if (p->format != mx::Format::int8) return mx_decode_blocks<I>(n, codes, scales, out, *p);
  const gse::Format g = gse::mxint8_format();
  gse_decode<I, float>(n, reinterpret_cast<const std::int8_t*>(codes), scales, out, &g);  // every int8 code decodes
}

// An ISA's MX row of the kernel list.
template <class I> constexpr mx::Impl mx_impl() {
  return {.width = mx::kBlock, .encode_f32 = mx_encode<I>, .decode_f32 = mx_decode<I>};
}

}  // namespace
}  // namespace lowbit::simd
