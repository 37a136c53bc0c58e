// The block-format suites run against every implementation of the kernel table (the same code
// path as `lowbit conform`), and they catch a faulty implementation.
#include <gtest/gtest.h>

#include <bit>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/gse_oracle.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"
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
  for (const gse::Impl& impl : kernels::list<gse::Impl>()) {
    if (!kernels::available(impl)) continue;
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
void faulty_encode(std::size_t n, const float* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
                   BlockStats* stats) {
  gse::EncodeParams q = *p;
  if (q.rounding == Rounding::rne || q.rounding == Rounding::rna) q.rounding = Rounding::rtz;
  ref::gse_encode_ref(n, in, codes, exps, &q, stats);
}

TEST(GseConformance, FaultyImplementationIsReported) {
  gse::Impl faulty = kernels::reference<gse::Impl>();
  faulty.name = "faulty";
  faulty.encode_f32 = faulty_encode;
  std::uint64_t f32_errors = 0, other_errors = 0;
  for (const Check& c : run_gse_suite(faulty, {})) (c.name.starts_with("encode f32") || c.name.starts_with("stream f32") ? f32_errors : other_errors) += c.errors;
  EXPECT_GT(f32_errors, 100u);
  EXPECT_EQ(other_errors, 0u);
}

}  // namespace

namespace {

// Every finite f16 value as an element of groups whose maximum is fixed (|v| <= 2, the rest of
// the f16 range through a group maximum of 65504), for every b, every implementation, against
// the oracle: the exhaustive check where it is cheap.
TEST(GseExhaustive, EveryF16ElementUnderAFixedMaximum) {
  std::vector<float> values;
  for (std::uint32_t h = 0; h < 0x7C00; ++h)  // non-negative finite f16; the sign is symmetric
    values.push_back(ref::convert_nearest<float>(f16{static_cast<std::uint16_t>(h)}));
  for (const gse::Impl& impl : kernels::list<gse::Impl>()) {
    if (!kernels::available(impl)) continue;
    for (int bits = 4; bits <= 8; ++bits)
      for (Rounding r : {Rounding::rne, Rounding::rna, Rounding::rtz}) {
        gse::Format f;
        f.bits = bits;
        f.exp_offset = 0;
        const std::vector<std::uint32_t> words(32, 0);
        std::size_t checked = 0;
        for (std::size_t start = 0; start < values.size(); start += 31) {
          std::vector<f16> group{ref::convert_nearest<f16>(values[std::min(start + 30, values.size() - 1)] < 2 ? 2.0f : 65504.0f)};
          std::vector<float> exact{ref::convert_nearest<float>(group[0])};
          for (std::size_t i = start; i < std::min(values.size(), start + 31); ++i) {
            group.push_back(ref::convert_nearest<f16>(i % 2 ? -values[i] : values[i]));
            exact.push_back(i % 2 ? -values[i] : values[i]);
          }
          const gse::EncodeParams p{f, r, 0, 0, nullptr};
          std::vector<std::int8_t> codes(group.size());
          std::uint8_t field;
          BlockStats stats;
          gse::encode_kernel<f16>(impl)(group.size(), group.data(), codes.data(), &field, &p, &stats);
          const OracleGroup want = gse_oracle(exact, f, r, std::vector<std::uint32_t>(group.size(), 0));
          ASSERT_EQ(field, want.field) << impl.name << " b=" << bits << " " << name(r) << " group at " << start;
          for (std::size_t i = 0; i < group.size(); ++i)
            ASSERT_EQ(codes[i], want.codes[i]) << impl.name << " b=" << bits << " " << name(r) << " f16 value " << exact[i];
          checked += group.size() - 1;
        }
        EXPECT_EQ(checked, values.size());
      }
  }
}

}  // namespace
