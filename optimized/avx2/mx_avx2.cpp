// MX kernels for AVX2: one block of 32 a step, the elements through the FP8 encoder of their format.
// The kernels are common/mx_simd.hpp over the AVX2 lane policy (avx2/isa.hpp).
#include "avx2/isa.hpp"
#include "common/mx_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::kernels {

const mx::Impl mx_avx2 = simd::mx_impl<avx2::Avx2>();

}  // namespace lowbit::kernels
