// MX element rounding against the peers' golden streams (the conformance suite checks a sample): with
// the scale 2^0 and 'even', an MX element is ml_dtypes' saturating conversion (CUDA's agrees on every
// finite input), except that MX writes every zero as +0. Quick: every input where a golden run starts
// or ends, and its neighbours (each output change of all 2^32); LOWBIT_TEST_FULL=1: all 2^32 inputs
// (CI's exhaustive label keeps to the minifloat streams, docs/conformance.md).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "lowbit/reference/mx.hpp"

namespace {

using namespace lowbit;
using namespace lowbit::conformance;

struct Golden {
  mx::Format format;
  const char* runs;
};
constexpr Golden kGolden[] = {
    {mx::Format::fp8_e4m3, "fp8/mld_sat_f32_to_e4m3fn.runs"}, {mx::Format::fp8_e5m2, "fp8/mld_sat_f32_to_e5m2.runs"},
    {mx::Format::fp6_e3m2, "fp8/f32_to_e3m2fn.runs"},         {mx::Format::fp6_e2m3, "fp8/f32_to_e2m3fn.runs"},
    {mx::Format::fp4_e2m1, "fp8/f32_to_e2m1fn.runs"},
};

// Mismatches over inputs [begin, end): finite inputs only; a zero result compares by magnitude.
std::uint64_t mismatches(const mx::Traits& t, const std::vector<Run>& runs, std::uint64_t begin, std::uint64_t end) {
  std::uint64_t bad = 0;
  const std::uint8_t magnitude = mx::sign_bit(t) - 1;
  for (std::uint64_t k = begin; k < end; ++k) {
    const std::uint32_t bits = static_cast<std::uint32_t>(k);
    const float x = std::bit_cast<float>(bits);
    if (!std::isfinite(x)) continue;
    const std::uint8_t got = ref::mx_element_code(t, x, 0, Rounding::rne, 0), want = lookup(runs, bits);
    if (got != want && !(got == 0 && (want & magnitude) == 0)) ++bad;
  }
  return bad;
}

TEST(MxGolden, ElementRoundingMatchesMlDtypesAtEveryRunBoundary) {
  const GoldenDir g = GoldenDir::from_env();
  for (const Golden& gold : kGolden) {
    const std::vector<conformance::Run> runs = g.runs(gold.runs);
    std::uint64_t bad = 0, inputs = 0;
    for (const conformance::Run& r : runs)
      for (std::int64_t d = -2; d <= 2; ++d) {
        const std::int64_t k = std::int64_t{r.start} + d;
        if (k < 0 || k >= (std::int64_t{1} << 32)) continue;
        bad += mismatches(traits(gold.format), runs, static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(k) + 1);
        ++inputs;
      }
    for (std::uint64_t k = 0; k < (std::uint64_t{1} << 32); k += 65537, ++inputs)  // and a stride through the runs
      bad += mismatches(traits(gold.format), runs, k, k + 1);
    EXPECT_EQ(bad, 0u) << gold.runs;
    EXPECT_GT(inputs, 65536 + 4 * runs.size()) << gold.runs;
  }
}

TEST(MxGoldenExhaustive, ElementRoundingMatchesMlDtypesOnEveryF32) {
  if (!std::getenv("LOWBIT_TEST_FULL")) GTEST_SKIP() << "all 2^32 inputs with LOWBIT_TEST_FULL=1 (the run boundaries are quick)";
  const GoldenDir g = GoldenDir::from_env();
  const unsigned threads = default_threads();
  for (const Golden& gold : kGolden) {
    const std::vector<conformance::Run> runs = g.runs(gold.runs);
    std::vector<std::uint64_t> bad(threads);
    std::vector<std::thread> pool;
    const std::uint64_t slice = (std::uint64_t{1} << 32) / threads;
    for (unsigned i = 0; i < threads; ++i)
      pool.emplace_back([&, i] {
        const std::uint64_t end = i + 1 == threads ? std::uint64_t{1} << 32 : slice * (i + 1);
        bad[i] = mismatches(traits(gold.format), runs, slice * i, end);
      });
    for (auto& t : pool) t.join();
    std::uint64_t total = 0;
    for (std::uint64_t b : bad) total += b;
    EXPECT_EQ(total, 0u) << gold.runs;
  }
}

}  // namespace
