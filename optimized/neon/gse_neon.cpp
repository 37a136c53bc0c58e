// GSE-INT kernels for NEON (aarch64): one group of N a step, 16 codes a store. The kernels are
// common/gse_simd.hpp over the NEON lane policy (neon/isa.hpp).
#include "common/gse_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::kernels {

const gse::Impl gse_neon = simd::gse_impl<neon::Neon>();

}  // namespace lowbit::kernels
