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
  // Lane b: the unsigned maximum of v[b]'s lanes, by halving: pairs of vectors interleaved by 32 bits,
  // then by 64, then the 128-bit halves.
  static U lane_max(const U (&v)[8]) {
    U m[4], n[2];
    for (int k = 0; k < 4; ++k) m[k] = _mm256_max_epu32(_mm256_unpacklo_epi32(v[2 * k], v[2 * k + 1]), _mm256_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
    for (int k = 0; k < 2; ++k) n[k] = _mm256_max_epu32(_mm256_unpacklo_epi64(m[2 * k], m[2 * k + 1]), _mm256_unpackhi_epi64(m[2 * k], m[2 * k + 1]));
    return _mm256_max_epu32(_mm256_permute2x128_si256(n[0], n[1], 0x20), _mm256_permute2x128_si256(n[0], n[1], 0x31));
  }
};

}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {

const nvfp4::Impl nvfp4_avx2 = simd::nvfp4_impl<avx2::Nvfp4>();

}  // namespace lowbit::kernels
