// The block-format suites run against every implementation of the kernel table (the same code
// path as `lowbit conform`), and they catch a faulty implementation.
#include <gtest/gtest.h>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"

namespace {

using namespace lowbit;
using namespace lowbit::conformance;

void expect_all_passed(const std::vector<Check>& checks) {
  ASSERT_FALSE(checks.empty());
  for (const Check& c : checks)
    EXPECT_TRUE(c.passed()) << c.impl << " " << c.format << " " << c.name << ": " << c.errors << " errors in " << c.cases
                            << " cases" << (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
}

TEST(GseConformance, EveryImplementationAgainstTheOracleAndTheReference) {
  std::size_t impls = 0;
  for (const GseImpl& impl : gse_impls()) {
    if (!impl.available()) continue;
    SCOPED_TRACE(impl.name);
    expect_all_passed(run_gse_suite(impl, {}));
    ++impls;
  }
  EXPECT_GE(impls, 1u);
}

TEST(MxConformance, ReferenceAgainstMicroxcalingAndTheGoldenElements) {
  const std::vector<Check> checks = run_mx_suite(GoldenDir::from_env(), {});
  EXPECT_EQ(checks.size(), 6u * 3 + 5);  // quantize per format and rounding; elements per FP format
  expect_all_passed(checks);
}

// Rounds ties toward zero on f32 input: only the oracle checks can see it.
void faulty_encode(std::size_t n, const float* in, std::int8_t* codes, std::uint8_t* exps, const GseEncodeParams* p,
                   BlockStats* stats) {
  GseEncodeParams q = *p;
  if (q.rounding == Rounding::rne || q.rounding == Rounding::rna) q.rounding = Rounding::rtz;
  ref::gse_encode_ref(n, in, codes, exps, &q, stats);
}

TEST(GseConformance, FaultyImplementationIsReported) {
  GseImpl faulty = ref::kGseReference;
  faulty.name = "faulty";
  faulty.encode_f32 = faulty_encode;
  std::uint64_t f32_errors = 0, other_errors = 0;
  for (const Check& c : run_gse_suite(faulty, {})) (c.name.starts_with("encode f32") || c.name.starts_with("stream f32") ? f32_errors : other_errors) += c.errors;
  EXPECT_GT(f32_errors, 100u);
  EXPECT_EQ(other_errors, 0u);
}

}  // namespace
