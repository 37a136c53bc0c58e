// The one kernel signature per NF4/FP4 operation, shared by the reference and every SIMD ISA.
// Storage is bitsandbytes': packed codes, two per byte, element 2j in the high nibble of byte j
// (odd n: the low nibble of the last byte is the code of a padding 0.0); one fp32 absmax per
// block of `block` elements, the last block holding the n mod block remaining elements.
// Double quantization works on the absmax array afterwards (reference/nf4.hpp).
#pragma once
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/nf4.hpp"

namespace lowbit {

struct Nf4Params {
  FourBitTable table;
  Nf4Profile profile;
  int block;  // valid_nf4_block()
};

constexpr Nf4Params make_nf4_params(FourBitTable t = FourBitTable::nf4,
                                    const Nf4Profile& p = default_nf4_profile(), int block = kNf4DefaultBlock) {
  return {t, p, block};
}

// packed: nf4_packed_bytes(n) bytes; absmax: nf4_blocks(n, block) floats.
using Nf4QuantizeFn = void (*)(std::size_t n, const float* in, std::uint8_t* packed, float* absmax,
                               const Nf4Params* params);
// out[i] = fl(table[code i] * absmax[i / block]) for every profile.
using Nf4DequantizeFn = void (*)(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                                 const Nf4Params* params);

struct Nf4Impl {
  const char* name;      // "reference", "avx2", "neon"
  unsigned width;        // elements per vector step (1 for scalar code)
  bool (*available)();   // does this CPU run it?
  Nf4QuantizeFn quantize;
  Nf4DequantizeFn dequantize;
};

}  // namespace lowbit
