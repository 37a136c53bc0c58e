// The conformance suites of the block formats: GSE-INT (any implementation of the kernel table)
// and MX (the reference, or a vendor plugin's codec), against the exact oracles and the golden
// element streams.
#pragma once
#include <cstdint>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/gse_kernel.hpp"
#include "lowbit/reference/mx.hpp"

namespace lowbit::conformance {

struct BlockSuiteOptions {
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;
  int groups = 2000;  // random groups per check
};

std::vector<Check> run_gse_suite(const GseImpl& impl, const BlockSuiteOptions& o);
// An MX codec with the reference's signatures (lowbit has no other: MX is reference-only).
struct MxImpl {
  const char* name;
  decltype(&ref::mx_encode_ref) encode;
  decltype(&ref::mx_decode_ref) decode;
};
inline constexpr MxImpl kMxReference{"reference", ref::mx_encode_ref, ref::mx_decode_ref};

// Every impl: quantize (encode + decode) against the microxcaling oracle. The reference: its
// element conversions against ml_dtypes' golden runs; any other impl: random streams (every
// rounding, sr included) against the reference, codes and scales bit for bit.
std::vector<Check> run_mx_suite(const MxImpl& impl, const GoldenDir& golden, const BlockSuiteOptions& o);
inline std::vector<Check> run_mx_suite(const GoldenDir& golden, const BlockSuiteOptions& o) {
  return run_mx_suite(kMxReference, golden, o);
}

}  // namespace lowbit::conformance
