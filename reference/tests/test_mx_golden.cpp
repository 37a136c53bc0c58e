// MX element rounding against the peers' golden streams on all 2^32 f32 inputs (the conformance
// suite checks a sample): with the scale 2^0 and 'even', an MX element is ml_dtypes' saturating
// conversion (CUDA's agrees on every finite input), except that MX writes every zero as +0.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
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

TEST(MxGoldenExhaustive, ElementRoundingMatchesMlDtypesOnEveryF32) {
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
