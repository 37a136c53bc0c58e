// The conformance suites of the block formats: GSE-INT (any implementation of the kernel table),
// MX and NVFP4 (any implementation, or a vendor plugin's codec), against the exact oracles, fixed
// vectors, the reference and the golden element streams.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::conformance {

struct BlockSuiteOptions {
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;
  int groups = 2000;  // random groups per check
  // The scope of a run (lowbit conform --rounding, --profile). Encode checks draw their roundings
  // from `roundings` (all of them: the same draws as ever); profiles: the NF4 profiles and GSE GEMM
  // accumulations to check, empty = all.
  std::vector<Rounding> roundings{kRoundings.begin(), kRoundings.end()};
  std::vector<std::string> profiles;

  bool has(Rounding r) const { return std::find(roundings.begin(), roundings.end(), r) != roundings.end(); }
  bool has_profile(std::string_view p) const {
    return profiles.empty() || std::find(profiles.begin(), profiles.end(), p) != profiles.end();
  }
};

std::vector<Check> run_gse_suite(const gse::Impl& impl, const BlockSuiteOptions& o);

// The GSE GEMM (format "gse-gemm", profile "exact" or "fp32": the accumulation): the golden
// generator's boundary problems on five formats (every k tail, extreme fields, max mantissas,
// cancellation, zero and NaN groups; rows whose fp32 sum depends on the group order) and
// o.groups / 20 random problems with A and B in different
// formats. The reference against gse_gemm_oracle, any other impl against the reference; bit for bit,
// any NaN equal to any NaN.
std::vector<Check> run_gse_gemm_suite(const gse::GemmImpl& impl, const BlockSuiteOptions& o);
// C = A B^T computed independently of lowbit: exact sums in big integers rounded once to f32, or
// the documented fp32 loop with each group's term formed in double; NaN where a row has a NaN group.
std::vector<float> gse_gemm_oracle(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                                   const std::int8_t* b, const std::uint8_t* b_exps, const gse::GemmParams& p);
// Every impl: quantize (encode + decode) against the microxcaling oracle. The reference: its
// element conversions against ml_dtypes' golden runs; any other impl: random streams (every
// rounding, sr included) against the reference, codes and scales bit for bit.
std::vector<Check> run_mx_suite(const mx::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o);
inline std::vector<Check> run_mx_suite(const GoldenDir& golden, const BlockSuiteOptions& o) {
  return run_mx_suite(kernels::reference<mx::Impl>(), golden, o);
}

// NVFP4 (format "nvfp4", profile "transformer-engine"), every impl: the fixed vectors of
// docs/formats/nvfp4.md (the worked example, the specials, a swizzled and a 2-D tail layout, sr with
// given words), encode per rounding of the scope (rne, sr) and decode, bit for bit. Any impl but the
// reference: o.groups / 20 random tensors per blocking and scale layout (rows and columns with tails,
// tie-exact and data-like blocks, zero blocks, specials, given amaxes) against the reference: codes and
// scales, and the decode of the reference's codes. The reference: its element and scale conversions
// against ml_dtypes' golden runs.
std::vector<Check> run_nvfp4_suite(const nvfp4::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o);

}  // namespace lowbit::conformance
