// The MX reference codec (docs/formats/mx.md): elements one byte each (FP6/FP4 codes in the low
// bits, sign at the top bit of their width; MXINT8 two's complement), one E8M0 byte per block.
#pragma once
#include <cstdint>

#include "lowbit/formats/mx.hpp"

namespace lowbit::ref {

// One element: |x| * 2^-X rounded onto the element grid, saturated to max normal; the sign is
// kept unless the result is zero. Minifloat elements only.
std::uint8_t mx_element_code(const mx::Traits& t, float x, int X, Rounding r, std::uint32_t random);
float mx_element_value(const mx::Traits& t, std::uint8_t code);  // exact, before the scale

void mx_encode_ref(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
                   BlockStats* stats);
void mx_decode_ref(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const mx::Impl mx_reference;
}  // namespace lowbit::kernels
