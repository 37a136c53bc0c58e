// The conformance suite run against every implementation of the kernel table: the same code path
// as `lowbit conform`. Also proves the suite can fail: a faulty implementation is caught.
#include <gtest/gtest.h>

#include "lowbit/conformance/fp8_suite.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

using namespace lowbit;
using namespace lowbit::conformance;

void expect_all_passed(const std::vector<Check>& checks) {
  ASSERT_FALSE(checks.empty());
  for (const Check& c : checks) {
    EXPECT_TRUE(c.passed()) << c.impl << " " << c.format << " " << c.profile << " " << c.name << ": "
                            << c.errors << " errors in " << c.cases << " cases"
                            << (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
  }
}

TEST(Fp8Conformance, EveryImplementationQuick) {
  Fp8SuiteOptions o;
  o.threads = default_threads();
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    SCOPED_TRACE(impl.name);
    expect_all_passed(run_fp8_suite(impl, GoldenDir::from_env(), o));
  }
}

TEST(Fp8Conformance, GoldenChecksCoverEveryProfileAndSource) {
  Fp8SuiteOptions o;
  o.random_cases = 1 << 10;
  const std::vector<Check> checks = run_fp8_suite(kernels::reference<fp8::Impl>(), GoldenDir::from_env(), o);
  // Per format: ml_dtypes and cuda profiles have f16, bf16, f64, decode golden files; the
  // ml_dtypes profiles also f32 runs. mld_sat has no f64 vectors.
  std::size_t f16 = 0, bf16 = 0, f64 = 0, f32 = 0, dec = 0;
  for (const Check& c : checks) {
    f16 += c.name.starts_with("f16 all ->");
    bf16 += c.name.starts_with("bf16 all ->");
    f64 += c.name.starts_with("f64 vectors ->");
    f32 += c.name.starts_with("f32 sample ->");
    dec += c.name.starts_with("decode");
  }
  EXPECT_EQ(f16, 8u);
  EXPECT_EQ(bf16, 8u);
  EXPECT_EQ(f64, 6u);
  EXPECT_EQ(f32, 4u);
  EXPECT_EQ(dec, 8u);
}

// A deliberately wrong implementation: ties away from zero on f16 inputs, NaN sign dropped on
// bf16 inputs. The suite must report both.
void faulty_encode_f16(std::size_t n, const f16* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  // Stochastic rounding with every word = 2^31 rounds up iff the dropped fraction >= 1/2.
  const std::vector<std::uint32_t> half(n, 0x80000000u);
  fp8::EncodeParams q = *p;
  q.rounding = Rounding::sr;
  q.random_bits = half.data();
  ref::fp8_encode_ref(n, in, out, &q);
}
void faulty_encode_bf16(std::size_t n, const bf16* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  for (std::size_t i = 0; i < n; ++i)
    if (is_nan(p->format, out[i])) out[i] &= 0x7F;
}

TEST(Fp8Conformance, FaultyImplementationIsReported) {
  fp8::Impl faulty = kernels::reference<fp8::Impl>();
  faulty.name = "faulty";
  faulty.encode_f16 = faulty_encode_f16;
  faulty.encode_bf16 = faulty_encode_bf16;
  Fp8SuiteOptions o;
  o.random_cases = 1 << 10;
  o.profiles = {fp8::find_profile("ml_dtypes")};
  std::size_t tie_errors = 0, nan_errors = 0, passed = 0;
  for (const Check& c : run_fp8_suite(faulty, GoldenDir::from_env(), o)) {
    if (c.name.starts_with("f16 all")) tie_errors += c.errors;
    else if (c.name.starts_with("bf16 all")) nan_errors += c.errors;
    else passed += c.passed();
  }
  EXPECT_GT(tie_errors, 100u);
  EXPECT_GT(nan_errors, 100u);  // every -NaN bf16 pattern
  EXPECT_GT(passed, 10u);
}

TEST(Fp8Exhaustive, EveryF32InputEveryProfileMatchesTheGoldenStreams) {
  Fp8SuiteOptions o;
  o.level = Level::full;
  o.threads = default_threads();
  o.random_cases = 1 << 10;
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    SCOPED_TRACE(impl.name);
    std::vector<Check> checks = run_fp8_suite(impl, GoldenDir::from_env(), o);
    std::size_t streams = 0;
    for (const Check& c : checks) streams += c.name.starts_with("f32 all 2^32") && c.cases == (1ull << 32);
    const bool reference = std::string_view(impl.name) == "reference";
    EXPECT_EQ(streams, reference ? 8u : 16u);  // SIMD: the golden stream and rtz against the reference
    expect_all_passed(checks);
  }
}

}  // namespace
