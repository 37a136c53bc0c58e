// The NVFP4 reference codec (docs/formats/nvfp4.md): TransformerEngine's reference quantizer
// (NVFP4QuantizerRef) step by step, in f32 as it computes; stochastic rounding as TE's kernels do it
// (8 random bits per element). Codes one byte each, E4M3FN scales, the tensor's amax kept in f32.
#pragma once
#include <cstdint>

#include "lowbit/formats/nvfp4.hpp"

namespace lowbit::ref {

// The global encode scale S_enc = 448 * 6 / amax in f32: FLT_MAX where that is Inf (amax 0), 1 where
// it is 0 (amax Inf); NaN stays NaN.
float nvfp4_global_encode_scale(float global_amax);
// A block's E4M3FN decode scale: block_amax * (S_enc * f32(1/6)), at most 448, rounded to nearest even.
std::uint8_t nvfp4_scale_code(float block_amax, float s_enc);
// The factor the block's elements are multiplied by: 1 / (scale * f32(1 / S_enc)), at most FLT_MAX.
float nvfp4_encode_scale(std::uint8_t scale_code, float s_enc);
// One scaled element (x times the encode scale) to its E2M1 code. rne: clamped to +-6, ties to even, a
// NaN gives +0, -0.0 gives +0 (TE's cast_to_fp4x2). sr: TE's stochastic_round_fp4_e2m1 with the low 8
// bits of `random`: a NaN gives +6.
std::uint8_t nvfp4_element_code(float scaled, Rounding r, std::uint32_t random);
float nvfp4_element_value(std::uint8_t code);  // the E2M1 value (exact)
float nvfp4_scale_value(std::uint8_t scale);   // the E4M3FN value (exact; 0x7F/0xFF: NaN)

void nvfp4_encode_ref(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p);
void nvfp4_decode_ref(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const nvfp4::Impl nvfp4_reference;
}  // namespace lowbit::kernels
