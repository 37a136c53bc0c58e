// MX kernels for NEON (aarch64): one block of 32 a step, the elements through the FP8 encoder of their
// format. The kernels are common/mx_simd.hpp over the NEON lane policy (neon/isa.hpp).
#include "common/mx_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::kernels {

const mx::Impl mx_neon = simd::mx_impl<neon::Neon>();

}  // namespace lowbit::kernels
