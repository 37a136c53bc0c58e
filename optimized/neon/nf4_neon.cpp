// NF4/FP4 blockwise kernels for NEON (aarch64): one block a step, 32 codes (16 packed bytes) a
// store. The block loops are common/nf4_simd.hpp; this file holds the lane code. Quantize: counts
// of thresholds below y, vqtbl1q from count to code, vuzp + vsli to pack two codes a byte.
// Dequantize: the block's 16 products table * absmax, with x86's NaN 0xFFC00000 put in for 0 * Inf
// (aarch64 would give 0x7FC00000), then vqtbl4q on the bytes of those 16 floats.
#include <arm_neon.h>

#include <cmath>

#include "common/nf4_nested.hpp"
#include "common/nf4_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::neon {
namespace {

using simd::Nf4Mode;

// The NF4 policy of the kernels in common/nf4_simd.hpp.
struct Nf4 : Neon {
  static constexpr bool kVectorThresholds = false;

  class Lanes {
   public:
    explicit Lanes(const simd::Nf4Plan& k) : lut_(vld1q_u8(k.lut.data())) { set(k.thr); }
    void scale(float s) { scale_ = vdupq_n_f32(s); }
    void exact(const simd::Nf4Block& block) { set(block.thr); }
    template <Nf4Mode M, bool Divide> void code_block(const float* x, std::size_t len, std::uint8_t* out) const {
      for (std::size_t j = 0; j < len; j += 32) {
        const uint8x16_t a = codes16<M, Divide>(x + j), b = codes16<M, Divide>(x + j + 16);
        // byte i = code[2i] << 4 | code[2i + 1]
        vst1q_u8(out + j / 2, vsliq_n_u8(vuzp2q_u8(a, b), vuzp1q_u8(a, b), 4));
      }
    }

   private:
    float32x4_t scale_;
    float32x4_t thr_[15];
    uint8x16_t lut_;  // count -> code

    void set(const std::array<float, 15>& t) {
      for (std::size_t i = 0; i < 15; ++i) thr_[i] = vdupq_n_f32(t[i]);
    }

    // Elements p[0..3]: their counts as u32 lanes.
    template <Nf4Mode M, bool Divide> uint32x4_t count4(const float* p) const {
      float32x4_t y = vld1q_f32(p);
      if constexpr (M != Nf4Mode::exact) y = Divide ? vdivq_f32(y, scale_) : vmulq_f32(y, scale_);
      if constexpr (M == Nf4Mode::torch) {  // 15 - #{k : y <= m[k]}: a NaN y counts 15, as bucketize
        uint32x4_t acc = vdupq_n_u32(15);
        for (int k = 0; k < 15; ++k) acc = vaddq_u32(acc, vcleq_f32(y, thr_[k]));
        return acc;
      }
      uint32x4_t acc = vdupq_n_u32(0);
      if constexpr (M == Nf4Mode::cuda_fp4) {  // sign = v < 0 (NaN and -0 are not), then |v|
        acc = vandq_u32(vcltq_f32(y, vdupq_n_f32(0.0f)), vdupq_n_u32(8));
        y = vabsq_f32(y);
      }
      for (int k = 0; k < 15; ++k) acc = vsubq_u32(acc, vcgtq_f32(y, thr_[k]));
      return acc;
    }

    // Elements p[0..15]: their codes as bytes in element order.
    template <Nf4Mode M, bool Divide> uint8x16_t codes16(const float* p) const {
      const uint16x8_t lo = vcombine_u16(vmovn_u32(count4<M, Divide>(p)), vmovn_u32(count4<M, Divide>(p + 4)));
      const uint16x8_t hi = vcombine_u16(vmovn_u32(count4<M, Divide>(p + 8)), vmovn_u32(count4<M, Divide>(p + 12)));
      return vqtbl1q_u8(lut_, vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)));
    }
  };

  class Dequant {
   public:
    explicit Dequant(nf4::Table t) {
      const float* table = reinterpret_cast<const float*>(table_bits(t).data());
      for (int i = 0; i < 4; ++i) t_[i] = vld1q_f32(table + 4 * i);
      // Byte r of the float of element e (of 4) in a 16-byte lookup index: 4 * code[e] + r.
      static constexpr std::uint8_t kRepeat[4][16] = {
          {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
          {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
          {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
      static constexpr std::uint8_t kByte[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
      for (int i = 0; i < 4; ++i) repeat_[i] = vld1q_u8(kRepeat[i]);
      byte_ = vld1q_u8(kByte);
    }
    // fl(table[c] * absmax) per code: the reference's one product, x86's NaN for 0 * Inf.
    void block(float absmax) {
      for (int i = 0; i < 4; ++i) {
        float32x4_t r = vmulq_f32(t_[i], vdupq_n_f32(absmax));
        if (std::isinf(absmax))
          r = vbslq_f32(vceqq_f32(t_[i], vdupq_n_f32(0.0f)), vreinterpretq_f32_u32(vdupq_n_u32(0xFFC00000u)), r);
        tb_.val[i] = vreinterpretq_u8_f32(r);
      }
    }
    std::size_t run(const std::uint8_t* c, std::size_t len, float* o) const {
      std::size_t j = 0;
      for (; j + 32 <= len; j += 32) {
        const uint8x16_t bytes = vld1q_u8(c + j / 2);
        const uint8x16_t hi = vshrq_n_u8(bytes, 4), lo = vandq_u8(bytes, vdupq_n_u8(15));
        const uint8x16_t codes[2] = {vzip1q_u8(hi, lo), vzip2q_u8(hi, lo)};  // element order
        for (int h = 0; h < 2; ++h)
          for (int q = 0; q < 4; ++q) {
            const uint8x16_t idx = vaddq_u8(vshlq_n_u8(vqtbl1q_u8(codes[h], repeat_[q]), 2), byte_);
            vst1q_f32(o + j + 16 * h + 4 * q, vreinterpretq_f32_u8(vqtbl4q_u8(tb_, idx)));
          }
      }
      return j;
    }
    void table(float* scaled) const {
      for (int i = 0; i < 4; ++i) vst1q_f32(scaled + 4 * i, vreinterpretq_f32_u8(tb_.val[i]));
    }

   private:
    float32x4_t t_[4];
    uint8x16_t repeat_[4], byte_;
    uint8x16x4_t tb_;
  };
};

}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {

// The nested search is the portable one: the gathers it would need are scalar loads on NEON.
const nf4::Impl nf4_neon{.width = 16, .encode = simd::nf4_quantize<neon::Nf4>, .decode = simd::nf4_dequantize<neon::Nf4>,
                        .nested = simd::nf4_nested<simd::ScalarNested>};

}  // namespace lowbit::kernels
