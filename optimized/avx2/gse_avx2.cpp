// GSE-INT kernels for AVX2 + F16C: one group of N a step, 32 codes a store. The kernels are
// common/gse_simd.hpp over the AVX2 lane policy (avx2/isa.hpp).
#include "avx2/isa.hpp"
#include "common/gse_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::kernels {

const gse::Impl gse_avx2 = simd::gse_impl<avx2::Avx2>();

}  // namespace lowbit::kernels
