#include "lowbit/reference/nvfp4.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/mx.hpp"

namespace lowbit::ref {
namespace {

constexpr float kFloatMax = std::numeric_limits<float>::max();
constexpr BinaryLayout kE4m3{4, 3}, kE2m1{2, 1};

// torch.min / torch.amax: a NaN operand wins.
float nan_min(float a, float b) { return std::isnan(a) || a < b ? a : b; }
float nan_max(float a, float b) { return std::isnan(a) || a > b ? a : b; }

// The magnitude code of a finite v >= 0 in `layout`, rounded to nearest even.
std::uint8_t magnitude_rne(float v, BinaryLayout layout) {
  const Unpacked u = unpack(v);
  return u.kind == Unpacked::Kind::zero ? 0 : static_cast<std::uint8_t>(round_magnitude(u.sig, u.exp, layout, Rounding::rne));
}

// ptx_arch_spec.cuh's stochastic_round_fp4_e2m1, operation for operation (the fma rounds once in f32).
float stochastic_e2m1(float x, std::uint32_t random) {
  const float u = static_cast<float>(random & 0xFFu) * (1.0f / 256.0f);
  const float a = std::fabs(x);
  const auto step_of = [](float v) { return v >= 4.0f ? 2.0f : v >= 2.0f ? 1.0f : 0.5f; };
  const float t = std::fma(u, step_of(a), a);
  const float step = step_of(t);
  const float q = std::fmin(std::floor(t * (1.0f / step)) * step, nvfp4::kE2m1Max);  // fmin: NaN -> 6
  return std::copysign(q, std::isnan(x) ? 1.0f : x);
}

}  // namespace

float nvfp4_global_encode_scale(float global_amax) {
  const float s = nan_min(nvfp4::kE4m3Max * nvfp4::kE2m1Max / global_amax, kFloatMax);
  return s == 0.0f ? 1.0f : s;
}

std::uint8_t nvfp4_scale_code(float block_amax, float s_enc) {
  constexpr float kRcp6 = 1.0f / nvfp4::kE2m1Max;  // f32(1/6): torch.reciprocal(6.0), TE's fp4_max_inv
  const float d = nan_min(block_amax * (s_enc * kRcp6), nvfp4::kE4m3Max);  // the FLT_MAX clamp is inside
  return std::isnan(d) ? nvfp4::kScaleNan : magnitude_rne(d, kE4m3);
}

float nvfp4_encode_scale(std::uint8_t scale_code, float s_enc) {
  const float s_dec = 1.0f / s_enc;  // TE's kernel divides in double: the same f32 (one division)
  return nan_min(1.0f / (nvfp4_scale_value(scale_code) * s_dec), kFloatMax);
}

std::uint8_t nvfp4_element_code(float scaled, Rounding r, std::uint32_t random) {
  if (r == Rounding::sr) {
    const float q = stochastic_e2m1(scaled, random);
    return static_cast<std::uint8_t>((std::signbit(q) ? 8 : 0) | magnitude_rne(std::fabs(q), kE2m1));
  }
  if (std::isnan(scaled)) return 0;
  const float v = std::clamp(scaled, -nvfp4::kE2m1Max, nvfp4::kE2m1Max);
  return static_cast<std::uint8_t>((v < 0 ? 8 : 0) | magnitude_rne(std::fabs(v), kE2m1));
}

float nvfp4_element_value(std::uint8_t code) { return mx_element_value(mx::traits(mx::Format::fp4_e2m1), code); }

float nvfp4_scale_value(std::uint8_t scale) {
  if ((scale & 0x7F) == 0x7F) return std::numeric_limits<float>::quiet_NaN();
  return mx_element_value(mx::traits(mx::Format::fp8_e4m3), scale);
}

void nvfp4_encode_ref(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  const std::size_t rows = p->rows, cols = p->cols, tile = p->blocking == nvfp4::Blocking::d2 ? nvfp4::kBlock : std::size_t{1};
  std::fill(scales, scales + nvfp4::scale_count(rows, cols, p->layout), std::uint8_t{0});
  const float s_enc = nvfp4_global_encode_scale(p->global_amax);
  for (std::size_t r0 = 0; r0 < rows; r0 += tile) {
    const std::size_t r1 = std::min(r0 + tile, rows);
    for (std::size_t b = 0; b < nvfp4::row_blocks(cols); ++b) {
      const std::size_t c0 = b * nvfp4::kBlock, c1 = std::min(c0 + nvfp4::kBlock, cols);
      float amax = 0;
      for (std::size_t r = r0; r < r1; ++r)
        for (std::size_t c = c0; c < c1; ++c) amax = nan_max(amax, std::fabs(in[r * cols + c]));
      const std::uint8_t scale = nvfp4_scale_code(amax, s_enc);
      const float enc = nvfp4_encode_scale(scale, s_enc);
      for (std::size_t r = r0; r < r1; ++r) {
        scales[nvfp4::scale_index(r, b, cols, p->layout)] = scale;
        for (std::size_t c = c0; c < c1; ++c) {
          const std::uint32_t word =
              p->rounding == Rounding::sr ? p->random[r * nvfp4::sr_words_per_row(cols) + c / 4] >> (8 * (c % 4)) : 0;
          codes[r * cols + c] = nvfp4_element_code(in[r * cols + c] * enc, p->rounding, word);
        }
      }
    }
  }
}

void nvfp4_decode_ref(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p) {
  constexpr float kFactorInv = 1.0f / (nvfp4::kE2m1Max * nvfp4::kE4m3Max);  // f32(1/2688), TE's dequantize
  for (std::size_t r = 0; r < p->rows; ++r)
    for (std::size_t b = 0; b < nvfp4::row_blocks(p->cols); ++b) {
      const float scale = nvfp4_scale_value(scales[nvfp4::scale_index(r, b, p->cols, p->layout)]) * p->global_amax * kFactorInv;
      for (std::size_t c = b * nvfp4::kBlock; c < std::min((b + 1) * nvfp4::kBlock, p->cols); ++c)
        out[r * p->cols + c] = nvfp4_element_value(codes[r * p->cols + c]) * scale;
    }
}

}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const nvfp4::Impl nvfp4_reference{.encode_f32 = nvfp4_encode_ref, .decode_f32 = nvfp4_decode_ref};

}  // namespace lowbit::kernels
