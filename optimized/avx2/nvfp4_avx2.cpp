// NVFP4 kernels for AVX2: 8 blocks of 16 a step, their scales one block a lane. The kernels are
// common/nvfp4_simd.hpp over the AVX2 lane policy (avx2/isa.hpp) and the f32 operations below.
#include <immintrin.h>

#include "avx2/isa.hpp"
#include "common/nvfp4_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::avx2 {
namespace {

struct Nvfp4 : Avx2 {
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F floor(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
};

}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {

const nvfp4::Impl nvfp4_avx2 = simd::nvfp4_impl<avx2::Nvfp4>();

}  // namespace lowbit::kernels
