#include "lowbit/reference/gse_gemm.hpp"

#include <bit>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // a false positive inside Boost's cpp_int
#include <boost/multiprecision/cpp_int.hpp>
#pragma GCC diagnostic pop
#include <limits>
#include <vector>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::ref {
namespace {

using BigInt = boost::multiprecision::cpp_int;

float to_f32(bool negative, std::uint64_t magnitude, int exp) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(pack_nearest(negative, magnitude, exp, kF32Layout)));
}

// An exact integer times 2^exp, rounded once to f32. Bits beyond the top 62 fold into a sticky
// bit, far below f32's 24: the rounding sees the same value class.
float round_to_f32(const BigInt& v, int exp) {
  if (v == 0) return 0.0f;
  BigInt mag = abs(v);
  const int width = static_cast<int>(msb(mag)) + 1;
  std::uint64_t sig;
  if (width <= 62) {
    sig = static_cast<std::uint64_t>(mag);
  } else {
    const int drop = width - 62;
    const bool sticky = (mag & ((BigInt(1) << drop) - 1)) != 0;
    sig = (static_cast<std::uint64_t>(mag >> drop) << 1) | (sticky ? 1 : 0);
    exp += drop - 1;
  }
  return to_f32(v < 0, sig, exp);
}

}  // namespace

bool gse_gemm_ref(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                  const std::int8_t* b, const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  const gse::Format &fa = p->a, &fb = p->b;
  const bool valid = m == 0 || n == 0 || (!gse_invalid_code({a, m * k}, fa) && !gse_invalid_code({b, n * k}, fb));
  const std::size_t N = static_cast<std::size_t>(fa.group), groups = fa.groups(k);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      std::vector<std::int64_t> dots(groups);
      std::vector<int> exps(groups);
      bool nan = false;
      for (std::size_t g = 0; g < groups; ++g) {
        const unsigned ea = a_exps[i * groups + g], eb = b_exps[j * groups + g];
        nan |= ea == fa.nan_field() || eb == fb.nan_field();
        // Exponent of the product of the unit mantissas of both groups.
        exps[g] = (static_cast<int>(ea) - fa.exp_bias + fa.exp_offset - (fa.bits - 2)) +
                  (static_cast<int>(eb) - fb.exp_bias + fb.exp_offset - (fb.bits - 2));
        std::int64_t dot = 0;  // |dot| <= 127 * 127 * 256 < 2^22: exact in int32 and in f32
        for (std::size_t t = g * N; t < std::min(k, (g + 1) * N); ++t) dot += std::int64_t{a[i * k + t]} * b[j * k + t];
        dots[g] = dot;
      }
      float& out = c[i * n + j];
      if (nan) {
        out = std::numeric_limits<float>::quiet_NaN();
      } else if (p->accumulate == gse::Accumulate::exact) {
        int lowest = 0;
        for (std::size_t g = 0; g < groups; ++g) lowest = g == 0 ? exps[g] : std::min(lowest, exps[g]);
        BigInt sum = 0;  // in units of 2^lowest
        for (std::size_t g = 0; g < groups; ++g) sum += BigInt(dots[g]) << (exps[g] - lowest);
        out = round_to_f32(sum, lowest);
      } else {
        float acc = 0.0f;
        for (std::size_t g = 0; g < groups; ++g) {
          const std::uint64_t mag = static_cast<std::uint64_t>(dots[g] < 0 ? -dots[g] : dots[g]);
          acc += to_f32(dots[g] < 0, mag, exps[g]);  // the term rounds only outside f32's range
        }
        out = acc;
      }
    }
  return valid;
}


}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const gse::GemmImpl gse_gemm_reference{.gemm = gse_gemm_ref};

}  // namespace lowbit::kernels
