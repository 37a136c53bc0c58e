// FP8 kernels for NEON (aarch64): 16 elements a step, integer rounding on the f32 bit pattern.
// The kernels are common/fp8_simd.hpp over the NEON lane policy (neon/isa.hpp).
#include "common/fp8_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::kernels {

const fp8::Impl fp8_neon = simd::fp8_impl<neon::Neon>();

}  // namespace lowbit::kernels
