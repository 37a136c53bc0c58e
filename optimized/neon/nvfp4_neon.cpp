// NVFP4 kernels for NEON (aarch64): 4 blocks of 16 a step, their scales one block a lane. The kernels
// are common/nvfp4_simd.hpp over the NEON lane policy (neon/isa.hpp) and the f32 operations below.
#include <arm_neon.h>

#include "common/nvfp4_simd.hpp"
#include "lowbit/kernels.hpp"
#include "neon/isa.hpp"

namespace lowbit::neon {
namespace {

struct Nvfp4 : Neon {
  static F div(F a, F b) { return vdivq_f32(a, b); }
  static F floor(F a) { return vrndmq_f32(a); }
  // Lane b: the unsigned maximum of v[b]'s lanes (pairwise maxima, twice).
  static U lane_max(const U (&v)[4]) { return vpmaxq_u32(vpmaxq_u32(v[0], v[1]), vpmaxq_u32(v[2], v[3])); }
};

}  // namespace
}  // namespace lowbit::neon

namespace lowbit::kernels {

const nvfp4::Impl nvfp4_neon = simd::nvfp4_impl<neon::Nvfp4>();

}  // namespace lowbit::kernels
