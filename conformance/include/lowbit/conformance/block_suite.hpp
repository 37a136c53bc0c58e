// The conformance suites of the block formats: GSE-INT (any implementation of the kernel table)
// and MX (the reference), against the exact oracles and the golden element streams.
#pragma once
#include <cstdint>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/gse_kernel.hpp"

namespace lowbit::conformance {

struct BlockSuiteOptions {
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;
  int groups = 2000;  // random groups per check
};

std::vector<Check> run_gse_suite(const GseImpl& impl, const BlockSuiteOptions& o);
std::vector<Check> run_mx_suite(const GoldenDir& golden, const BlockSuiteOptions& o);

}  // namespace lowbit::conformance
