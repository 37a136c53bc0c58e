// The NVFP4 SIMD kernels, written once over an ISA's lane policy (optimized/<isa>/isa.hpp) plus what
// the kernel sources add to it: div, floor and lane_max (lane b: the maximum of vector b's lanes). A
// batch is L blocks of 16 along a row (L lanes a vector), so that the scales are computed one block a
// lane, in the reference's f32 operations and order (reference/src/nvfp4.cpp, docs/formats/nvfp4.md):
// the blocks' amax (the maximum of the f32 patterns with the sign cleared, as GSE's: a NaN anywhere
// gives a NaN; a 2-D tile's over its 16 rows), d = amax * (S_enc * f32(1/6)) clamped to 448 and
// rounded to E4M3 by the FP8 encoder, the factor 1 / (value(d) * S_dec) clamped to FLT_MAX. The lanes
// then round x * factor to E2M1 with the FP8 encoder (rne), or with TE's stochastic rounding operation
// for operation (sr). A row's last batch is a zero-padded copy (blocks.hpp).
#pragma once
#include <algorithm>
#include <bit>
#include <cfloat>
#include <cstddef>
#include <cstdint>

#include "common/blocks.hpp"
#include "common/fp8_simd.hpp"
#include "lowbit/formats/nvfp4.hpp"
#include "lowbit/reference/nvfp4.hpp"

// Internal linkage, as in fp8_simd.hpp: each ISA's translation unit gets its own copy.
namespace lowbit::simd {
namespace {

// sr reads element c's random byte as byte c of its row's words (TE's rbits >> 8 * (c % 4)).
static_assert(std::endian::native == std::endian::little);

template <class I> constexpr std::size_t kNvfp4Batch = nvfp4::kBlock * I::kLanes;

constexpr fp8::EncodeParams rne_params(fp8::Format f) {
  return {f, Rounding::rne, true, true, false, false, fp8::NanEncode::keep_sign, fp8::BelowRange::nan, 0, 0, nullptr};
}

// The amax of each block of a batch of `width` elements (f32 bits), one block a lane: a whole batch
// reduced across its vectors (I::lane_max), a row's last one block by block.
template <class I> typename I::U batch_amax(const float* x, std::size_t width) {
  using U = typename I::U;
  constexpr std::size_t L = I::kLanes, V = nvfp4::kBlock / L;  // vectors a block
  const U abs = I::splat(0x7FFFFFFF);
  if (width == kNvfp4Batch<I>) {
    U m[L];
    for (std::size_t b = 0; b < L; ++b) {
      m[b] = I::and_(I::as_u(I::load(x + b * nvfp4::kBlock)), abs);
      for (std::size_t v = 1; v < V; ++v) m[b] = I::max_u(m[b], I::and_(I::as_u(I::load(x + b * nvfp4::kBlock + v * L)), abs));
    }
    return I::lane_max(m);
  }
  alignas(32) std::uint32_t amax[L] = {};
  for (std::size_t i = 0; i < width; ++i) amax[i / nvfp4::kBlock] = std::max(amax[i / nvfp4::kBlock], std::bit_cast<std::uint32_t>(x[i]) & 0x7FFFFFFFu);
  return I::load(reinterpret_cast<const std::int32_t*>(amax));
}

template <class I> struct Nvfp4Encoder {
  using U = typename I::U;
  using F = typename I::F;
  static constexpr std::size_t L = I::kLanes;
  Fp8Encoder<I> e4m3, e2m1;
  Fp8Decoder<I> e4m3_value;
  F d_factor, s_dec;  // S_enc * f32(1/6) (TE's fp4_max_inv), 1 / S_enc

  explicit Nvfp4Encoder(float s_enc)
      : e4m3(encode_constants(rne_params(fp8::Format::e4m3), kF32Layout)),
        e2m1(encode_constants(rne_params(fp8::Format::e2m1), kF32Layout)),
        e4m3_value(decode_constants({fp8::Format::e4m3, fp8::NanDecode::keep_sign_quiet})),
        d_factor(I::splat_f(s_enc * (1.0f / nvfp4::kE2m1Max))), s_dec(I::splat_f(1.0f / s_enc)) {}

  // The E4M3 scale codes of L blocks (amax: f32 bits, one block a lane) and the factors their elements
  // are multiplied by.
  void scales(U amax, std::uint32_t* code, float* factor) const {
    const F d = I::mul(I::as_f(amax), d_factor);
    const U abs = I::and_(I::as_u(d), I::splat(0x7FFFFFFF));  // d >= 0, but a NaN may carry S_enc's sign
    U range = I::zero();  // min(d, 448): within the fast path's range
    const U c = I::select(I::gt(abs, I::splat(0x7F800000)), I::splat(nvfp4::kScaleNan),
                          e4m3.template fast<true, false>(I::min_u(abs, I::splat(std::bit_cast<std::uint32_t>(nvfp4::kE4m3Max))), range));
    // value * S_dec >= 0, so its reciprocal is above FLT_MAX only as +Inf.
    const U f = I::as_u(I::div(I::splat_f(1.0f), I::mul(I::as_f(e4m3_value.decode(c)), s_dec)));
    I::store(reinterpret_cast<std::int32_t*>(code), c);
    I::store(factor, I::as_f(I::select(I::eq(f, I::splat(0x7F800000)), I::splat(std::bit_cast<std::uint32_t>(FLT_MAX)), f)));
  }

  // rne: clamped to +-6, the sign of a negative (not -0), a NaN 0 (nvfp4_element_code).
  U code(F y) const {
    const U abs = I::and_(I::as_u(y), I::splat(0x7FFFFFFF));
    U range = I::zero();
    const U mag = e2m1.template fast<true, false>(I::min_u(abs, six()), range);
    return I::and_not(I::or_(mag, I::and_(e2m1.sign(I::as_u(y)), I::gt(abs, I::zero()))), I::gt(abs, I::splat(0x7F800000)));
  }

  // sr: stochastic_e2m1 with the random byte of each lane.
  U code(F y, U random) const {
    const F a = I::abs(y);
    // TE's fma(u, step, a) rounds once; u * step is exact (8 bits times a power of two), so a sum does too.
    const F t = I::add(I::mul(I::mul(I::to_f(random), I::splat_f(1.0f / 256.0f)), step(a, 2.0f, 1.0f, 0.5f)), a);
    const F q = I::mul(I::floor(I::mul(t, step(t, 0.5f, 1.0f, 2.0f))), step(t, 2.0f, 1.0f, 0.5f));
    U range = I::zero();  // fmin(q, 6): q >= 0, and NaN's and Inf's patterns are above 6's
    const U mag = e2m1.template fast<true, false>(I::min_u(I::as_u(q), six()), range);
    return I::or_(mag, I::and_(e2m1.sign(I::as_u(y)), I::gt(I::splat(0x7F800001), I::as_u(a))));  // copysign(q, x); NaN: +
  }

  // One batch of L blocks (a zero-padded copy at a row's end): random holds the lanes' bytes (sr).
  template <Rounding R> void batch(const float* x, std::uint8_t* o, const float* factor, const std::uint8_t* random) const {
    for (std::size_t j = 0; j < kNvfp4Batch<I>; j += 4 * L) {
      U c[4], r[4];
      if constexpr (R == Rounding::sr) I::load(random + j, r);
      for (std::size_t v = 0; v < 4; ++v) {
        const F y = I::mul(I::load(x + j + v * L), I::splat_f(factor[(j + v * L) / nvfp4::kBlock]));
        if constexpr (R == Rounding::sr) c[v] = code(y, r[v]);
        else c[v] = code(y);
      }
      I::store(o + j, c);
    }
  }

 private:
  static U six() { return I::splat(std::bit_cast<std::uint32_t>(nvfp4::kE2m1Max)); }
  // TE's step_of(v) (v >= 4: 2, v >= 2: 1, else 0.5; NaN: 0.5), or its reciprocal.
  static F step(F v, float from4, float from2, float below) {
    const U at2 = I::select(I::ge(v, I::splat_f(2.0f)), I::as_u(I::splat_f(from2)), I::as_u(I::splat_f(below)));
    return I::as_f(I::select(I::ge(v, I::splat_f(4.0f)), I::as_u(I::splat_f(from4)), at2));
  }
};

// Batches of a row taken together: first the scales of them all (independent of each other, so that
// their long chains of dependent operations overlap), then their elements.
constexpr std::size_t kNvfp4ChunkBatches = 16;

// The random bytes of a row's elements c0 .. c0 + width for sr: the caller's, or a zero-padded copy where
// the row's words end within a batch (they are read a batch at a time).
template <class I> const std::uint8_t* random_bytes(const nvfp4::EncodeParams& p, std::size_t r, std::size_t c0, std::size_t width,
                                                    std::uint8_t (&padded)[kNvfp4Batch<I>]) {
  const std::uint8_t* bytes = reinterpret_cast<const std::uint8_t*>(p.random + r * nvfp4::sr_words_per_row(p.cols)) + c0;
  if (width >= kNvfp4Batch<I>) return bytes;
  std::fill(std::copy(bytes, bytes + width, padded), padded + kNvfp4Batch<I>, std::uint8_t{0});
  return padded;
}

template <class I, Rounding R>
void nvfp4_encode_tiles(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams& p, float s_enc) {
  constexpr std::size_t L = I::kLanes, W = kNvfp4Batch<I>, K = kNvfp4ChunkBatches;
  const Nvfp4Encoder<I> enc(s_enc);
  const std::size_t cols = p.cols, tile = p.blocking == nvfp4::Blocking::d2 ? nvfp4::kBlock : 1;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += tile) {
    const std::size_t r1 = std::min(r0 + tile, p.rows);
    for (std::size_t c0 = 0; c0 < cols; c0 += K * W) {
      const std::size_t chunk = std::min(K * W, cols - c0);
      alignas(32) std::uint32_t code[K * L];
      alignas(32) float factor[K * L];
      for (std::size_t k = 0; k * W < chunk; ++k) {
        typename I::U amax = I::zero();
        for (std::size_t r = r0; r < r1; ++r) amax = I::max_u(amax, batch_amax<I>(in + r * cols + c0 + k * W, std::min(W, chunk - k * W)));
        enc.scales(amax, code + k * L, factor + k * L);
      }
      const std::size_t blocks = nvfp4::row_blocks(chunk), b0 = c0 / nvfp4::kBlock;
      std::uint8_t bytes[K * L];
      std::copy(code, code + blocks, bytes);
      for (std::size_t r = r0; r < r1; ++r)
        if (p.layout == nvfp4::ScaleLayout::linear)  // the row's scales are consecutive bytes
          std::copy(bytes, bytes + blocks, scales + nvfp4::scale_index(r, b0, cols, p.layout));
        else
          for (std::size_t b = 0; b < blocks; ++b) scales[nvfp4::scale_index(r, b0 + b, cols, p.layout)] = bytes[b];
      for (std::size_t r = r0; r < r1; ++r) {
        std::size_t k = 0;  // the batch for_each_block hands over: in order, the padded one last
        for_each_block<W>(chunk, in + r * cols + c0, codes + r * cols + c0, [&](const float* x, std::uint8_t* o) {
          std::uint8_t padded[W];
          const std::uint8_t* random = nullptr;
          if constexpr (R == Rounding::sr) random = random_bytes<I>(p, r, c0 + k * W, chunk - k * W, padded);
          enc.template batch<R>(x, o, factor + k++ * L, random);
        });
      }
    }
  }
}

template <class I> void nvfp4_encode(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  const float s_enc = ref::nvfp4_global_encode_scale(p->global_amax);
  if (s_enc < 0) return ref::nvfp4_encode_ref(in, codes, scales, p);  // a negative amax: no block amax rounds alike
  std::fill(scales, scales + nvfp4::scale_count(p->rows, p->cols, p->layout), std::uint8_t{0});
  if (p->rounding == Rounding::sr) nvfp4_encode_tiles<I, Rounding::sr>(in, codes, scales, *p, s_enc);
  else nvfp4_encode_tiles<I, Rounding::rne>(in, codes, scales, *p, s_enc);
}

template <class I> void nvfp4_decode(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p) {
  using F = typename I::F;
  constexpr std::size_t L = I::kLanes, W = kNvfp4Batch<I>;
  Fp8DecodeConstants k = decode_constants({fp8::Format::e4m3, fp8::NanDecode::keep_sign_quiet});
  k.top_keep = 0;  // 0x7F and 0xFF alike: +NaN (nvfp4_scale_value)
  const Fp8Decoder<I> scale_value(k), element_value(decode_constants({fp8::Format::e2m1, fp8::NanDecode::keep_sign_quiet}));
  const F global = I::splat_f(p->global_amax), inverse = I::splat_f(1.0f / (nvfp4::kE2m1Max * nvfp4::kE4m3Max));
  const std::size_t cols = p->cols;
  for (std::size_t r = 0; r < p->rows; ++r)
    for (std::size_t c0 = 0; c0 < cols; c0 += W) {
      const std::size_t width = std::min(W, cols - c0);
      alignas(32) std::uint32_t code[L] = {};
      alignas(32) float scale[L];
      for (std::size_t b = 0; b * nvfp4::kBlock < width; ++b) code[b] = scales[nvfp4::scale_index(r, c0 / nvfp4::kBlock + b, cols, p->layout)];
      I::store(scale, I::mul(I::mul(I::as_f(scale_value.decode(I::load(reinterpret_cast<const std::int32_t*>(code)))), global), inverse));
      for_each_block<W>(width, codes + r * cols + c0, out + r * cols + c0, [&](const std::uint8_t* c, float* o) {
        for (std::size_t j = 0; j < W; j += 4 * L) {
          typename I::U v[4];
          F y[4];
          I::load(c + j, v);
          for (std::size_t e = 0; e < 4; ++e) y[e] = I::mul(I::as_f(element_value.decode(v[e])), I::splat_f(scale[(j + e * L) / nvfp4::kBlock]));
          I::store(o + j, y);
        }
      });
    }
}

// An ISA's NVFP4 row of the kernel list (I: the lane policy with div, floor and lane_max).
template <class I> constexpr nvfp4::Impl nvfp4_impl() {
  return {.width = kNvfp4Batch<I>, .encode_f32 = nvfp4_encode<I>, .decode_f32 = nvfp4_decode<I>};
}

}  // namespace
}  // namespace lowbit::simd
