// FP8 kernels for AVX2 + F16C: 32 elements a step, integer rounding on the f32 bit pattern.
// The kernels are common/fp8_simd.hpp over the AVX2 lane policy (avx2/isa.hpp).
#include "avx2/isa.hpp"
#include "common/fp8_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::kernels {

const fp8::Impl fp8_avx2 = simd::fp8_impl<avx2::Avx2>();

}  // namespace lowbit::kernels
