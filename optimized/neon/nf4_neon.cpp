// NF4/FP4 blockwise kernels for NEON (aarch64): one block a step, 32 codes (16 packed bytes) a
// store. A lane-for-lane port of optimized/avx2/nf4_avx2.cpp: per-block plan from nf4_simd.hpp,
// counts of thresholds below y, vqtbl1q from count to code, vuzp + vsli to pack two codes a byte.
// Dequantize: the block's 16 products table * absmax, with x86's NaN 0xFFC00000 put in for
// 0 * Inf (aarch64 would give 0x7FC00000), then vqtbl4q on the bytes of those 16 floats.
// The reference runs: profiles that mix the rules of the four named ones (whole call), blocks that
// nf4::valid_block() rejects (whole call), and bnb-cuda blocks holding a NaN (that block).
#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "common/blocks.hpp"
#include "lowbit/kernels.hpp"
#include "common/nf4_simd.hpp"
#include "lowbit/reference/nf4.hpp"

namespace lowbit::neon {
namespace {

using simd::Nf4Mode;

// The largest f32 bit pattern with the sign cleared over len (a multiple of 32) elements.
std::uint32_t amax_bits(const float* x, std::size_t len) {
  const uint32x4_t abs = vdupq_n_u32(0x7FFFFFFF);
  uint32x4_t m0 = vdupq_n_u32(0), m1 = m0;
  for (std::size_t j = 0; j < len; j += 8) {
    __builtin_prefetch(reinterpret_cast<const char*>(x + j) + simd::kPrefetchAhead);
    m0 = vmaxq_u32(m0, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + j)), abs));
    m1 = vmaxq_u32(m1, vandq_u32(vreinterpretq_u32_f32(vld1q_f32(x + j + 4)), abs));
  }
  return vmaxvq_u32(vmaxq_u32(m0, m1));
}

struct Lanes {
  float32x4_t scale;
  float32x4_t thr[15];
  uint8x16_t lut;  // count -> code
};

// Elements p[0..3]: their counts as u32 lanes.
template <Nf4Mode M, bool Divide> uint32x4_t count4(const float* p, const Lanes& l) {
  float32x4_t y = vld1q_f32(p);
  if constexpr (M != Nf4Mode::exact) y = Divide ? vdivq_f32(y, l.scale) : vmulq_f32(y, l.scale);
  if constexpr (M == Nf4Mode::torch) {  // 15 - #{k : y <= m[k]}: a NaN y counts 15, as bucketize
    uint32x4_t acc = vdupq_n_u32(15);
    for (int k = 0; k < 15; ++k) acc = vaddq_u32(acc, vcleq_f32(y, l.thr[k]));
    return acc;
  }
  uint32x4_t acc = vdupq_n_u32(0);
  if constexpr (M == Nf4Mode::cuda_fp4) {  // sign = v < 0 (NaN and -0 are not), then |v|
    acc = vandq_u32(vcltq_f32(y, vdupq_n_f32(0.0f)), vdupq_n_u32(8));
    y = vabsq_f32(y);
  }
  for (int k = 0; k < 15; ++k) acc = vsubq_u32(acc, vcgtq_f32(y, l.thr[k]));
  return acc;
}

// Elements p[0..15]: their codes as bytes in element order.
template <Nf4Mode M, bool Divide> uint8x16_t codes16(const float* p, const Lanes& l) {
  const uint16x8_t lo = vcombine_u16(vmovn_u32(count4<M, Divide>(p, l)), vmovn_u32(count4<M, Divide>(p + 4, l)));
  const uint16x8_t hi = vcombine_u16(vmovn_u32(count4<M, Divide>(p + 8, l)), vmovn_u32(count4<M, Divide>(p + 12, l)));
  return vqtbl1q_u8(l.lut, vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)));
}

template <Nf4Mode M, bool Divide> void code_block(const float* x, std::size_t len, std::uint8_t* out, const Lanes& l) {
  for (std::size_t j = 0; j < len; j += 32) {
    const uint8x16_t a = codes16<M, Divide>(x + j, l), b = codes16<M, Divide>(x + j + 16, l);
    // byte i = code[2i] << 4 | code[2i + 1]
    vst1q_u8(out + j / 2, vsliq_n_u8(vuzp2q_u8(a, b), vuzp1q_u8(a, b), 4));
  }
}

void quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const simd::Nf4Plan k = simd::plan_nf4(*p);
  if (k.mode == Nf4Mode::reference || !nf4::valid_block(p->block)) return ref::nf4_quantize_ref(n, in, packed, absmax, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  Lanes l;
  for (int i = 0; i < 15; ++i) l.thr[i] = vdupq_n_f32(k.thr[static_cast<std::size_t>(i)]);
  l.lut = vld1q_u8(k.lut.data());
  alignas(16) float tail[4096];
  alignas(16) std::uint8_t tail_out[2048];
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
    const simd::Nf4Block plan = simd::plan_block(k, in + start, len, partial, amax_bits(x, padded));
    absmax[b] = plan.stored;
    if (plan.kind == simd::Nf4Block::fill) {
      std::memset(o, plan.code * 0x11, padded / 2);
    } else if (plan.kind == simd::Nf4Block::reference) {
      ref::nf4_quantize_ref(len, in + start, o, absmax + b, p);  // same partial flag and odd-n padding
    } else {
      l.scale = vdupq_n_f32(plan.divide ? plan.stored : plan.scale);
      switch (k.mode) {
        case Nf4Mode::exact:
          for (int i = 0; i < 15; ++i) l.thr[i] = vdupq_n_f32(plan.thr[static_cast<std::size_t>(i)]);
          code_block<Nf4Mode::exact, false>(x, padded, o, l);
          break;
        case Nf4Mode::torch:
          if (plan.divide) code_block<Nf4Mode::torch, true>(x, padded, o, l);
          else code_block<Nf4Mode::torch, false>(x, padded, o, l);
          break;
        case Nf4Mode::cuda_nf4: code_block<Nf4Mode::cuda_nf4, false>(x, padded, o, l); break;
        case Nf4Mode::cuda_fp4: code_block<Nf4Mode::cuda_fp4, false>(x, padded, o, l); break;
        case Nf4Mode::reference: break;
      }
    }
    // A padding lane is a 0.0 scaled like the block: the reference's odd-n padding code.
    if (partial) std::memcpy(packed + start / 2, tail_out, (len + 1) / 2);
  }
}

void dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  if (!nf4::valid_block(p->block)) return ref::nf4_dequantize_ref(n, packed, absmax, out, p);
  const std::size_t block = static_cast<std::size_t>(p->block);
  const float* table = reinterpret_cast<const float*>(table_bits(p->table).data());
  float32x4_t t[4];
  for (int i = 0; i < 4; ++i) t[i] = vld1q_f32(table + 4 * i);
  // Byte r of the float of element e (of 4) in a 16-byte lookup index: 4 * code[e] + r.
  static constexpr std::uint8_t kRepeat[4][16] = {
      {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
      {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
      {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
  static constexpr std::uint8_t kByte[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  uint8x16_t repeat[4];
  for (int i = 0; i < 4; ++i) repeat[i] = vld1q_u8(kRepeat[i]);
  const uint8x16_t byte = vld1q_u8(kByte);
  for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
    const std::size_t len = std::min(block, n - start);
    const std::uint8_t* c = packed + start / 2;
    float* o = out + start;
    const float a = absmax[b];
    // fl(table[c] * absmax) per code: the reference's one product, x86's NaN for 0 * Inf.
    alignas(16) float scaled[16];
    for (int i = 0; i < 4; ++i) {
      float32x4_t r = vmulq_f32(t[i], vdupq_n_f32(a));
      if (std::isinf(a)) r = vbslq_f32(vceqq_f32(t[i], vdupq_n_f32(0.0f)), vreinterpretq_f32_u32(vdupq_n_u32(0xFFC00000u)), r);
      vst1q_f32(scaled + 4 * i, r);
    }
    uint8x16x4_t tb;
    for (int i = 0; i < 4; ++i) tb.val[i] = vreinterpretq_u8_f32(vld1q_f32(scaled + 4 * i));
    std::size_t j = 0;
    for (; j + 32 <= len; j += 32) {
      const uint8x16_t bytes = vld1q_u8(c + j / 2);
      const uint8x16_t hi = vshrq_n_u8(bytes, 4), lo = vandq_u8(bytes, vdupq_n_u8(15));
      const uint8x16_t codes[2] = {vzip1q_u8(hi, lo), vzip2q_u8(hi, lo)};  // element order
      for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 4; ++q) {
          const uint8x16_t idx = vaddq_u8(vshlq_n_u8(vqtbl1q_u8(codes[h], repeat[q]), 2), byte);
          vst1q_f32(o + j + 16 * h + 4 * q, vreinterpretq_f32_u8(vqtbl4q_u8(tb, idx)));
        }
    }
    for (; j < len; ++j) o[j] = scaled[ref::nf4_code_at(c, j)];
  }
}


}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {
using namespace lowbit::neon;

const nf4::Impl nf4_neon{.width = 16, .encode = quantize, .decode = dequantize};

}  // namespace lowbit::kernels
