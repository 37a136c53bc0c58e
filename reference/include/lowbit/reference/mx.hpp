// The MX reference codec (docs/formats/mx.md): elements one byte each (FP6/FP4 codes in the low
// bits, sign at the top bit of their width; MXINT8 two's complement), one E8M0 byte per block.
#pragma once
#include <cstdint>

#include "lowbit/formats/gse_kernel.hpp"
#include "lowbit/formats/mx.hpp"

namespace lowbit::ref {

struct MxParams {
  MxFormat format;
  Rounding rounding;     // rna ('nearest', the default), rne ('even'), rtz ('floor'), sr
  std::uint64_t seed;    // sr
  std::uint64_t index0;  // sr: stream index of in[0]
};

// One element: |x| * 2^-X rounded onto the element grid, saturated to max normal; the sign is
// kept unless the result is zero. Minifloat elements only.
std::uint8_t mx_element_code(const MxTraits& t, float x, int X, Rounding r, std::uint32_t random);
float mx_element_value(const MxTraits& t, std::uint8_t code);  // exact, before the scale

void mx_encode_ref(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const MxParams& p,
                   BlockStats* stats);
void mx_decode_ref(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, MxFormat f);

}  // namespace lowbit::ref
