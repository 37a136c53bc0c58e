// The conformance suite run against every implementation of the kernel table: the same code path
// as `lowbit conform`. Also proves the suite can fail: a faulty implementation is caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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
  // Every check of the quick level, the f32/f64 samples at 2^14 (lowbit conform: 2^18): the kernel tests
  // (optimized/tests/test_fp8_kernels.cpp) hold the boundary f32 sets of every format. The roundings the
  // SIMD rows compute (the others call the reference there; GoldenChecksCoverEveryProfileAndSource runs
  // their golden sets on the reference, the properties test them through every row).
  o.random_cases = 1 << 14;
  o.roundings = {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::sr};
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
  // f16 and bf16 tables: ml_dtypes' of the 11 ml_dtypes formats in rne and rtz (profile ml_dtypes) and
  // sat (ml_dtypes-sat), 33; CUDA's of e4m3 and e5m2 (cuda-nosat, cuda-satfinite), 4; APFloat's of e4m3
  // and e5m2 in rne, rna, rtz (llvm), 6; gfloat's of the 14 P3109 formats in rne, rna, rtz (p3109) and
  // sat (p3109-satfinite), 56; p3109-cpp's of the 30 P3109 formats in every mode the draft defines for
  // them (lowbit/conformance/p3109_spec.hpp), 330. f64 vectors: the same but gfloat's rna (its binary64
  // tie test), 85, and p3109-cpp's where gfloat has none, 295. f32 run lists: ml_dtypes rne of the 9
  // formats shipped, saturating of e4m3, e5m2, e8m0, APFloat's 6, CUDA's FP6/FP4 3 and E8M0 rz/rp x
  // nosat/satfinite 4. A decode table per format and profile that applies: ml_dtypes 11, ml_dtypes-sat 11,
  // llvm 2 (none for its FNUZ semantics), cuda-nosat 3, cuda-satfinite 6, the three P3109 profiles 3 x 30.
  std::size_t f16 = 0, bf16 = 0, f64 = 0, f32 = 0, dec = 0;
  for (const Check& c : checks) {
    f16 += c.name.starts_with("f16 all ->");
    bf16 += c.name.starts_with("bf16 all ->");
    f64 += c.name.starts_with("f64 vectors ->");
    f32 += c.name.starts_with("f32 sample ->");
    dec += c.name.starts_with("decode");
  }
  EXPECT_EQ(f16, 99u + 330);
  EXPECT_EQ(bf16, 99u + 330);
  EXPECT_EQ(f64, 85u + 295);
  EXPECT_EQ(f32, 25u);
  EXPECT_EQ(dec, 123u);
  for (const Check& c : checks) EXPECT_TRUE(fp8::applies(*fp8::find_profile(c.profile), *fp8::parse_format(c.format))) << c.name;
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

// fnuz formats have no -0: a negative value that rounds to zero is +0, 0x80 is their NaN. An
// implementation that keeps the sign of zero must fail ml_dtypes' tables in every profile.
template <class In> void keeps_negative_zero(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  constexpr int top = FloatTraits<In>::layout.total_bits() - 1;
  for (std::size_t i = 0; i < n; ++i)
    if (out[i] == 0 && (FloatTraits<In>::to_bits(in[i]) >> top)) out[i] = 0x80;
}

TEST(Fp8Conformance, FaultyFnuzNegativeZeroIsReported) {
  fp8::Impl faulty = kernels::reference<fp8::Impl>();
  faulty.name = "faulty";
  faulty.encode_f16 = keeps_negative_zero<f16>;
  faulty.encode_f64 = keeps_negative_zero<double>;
  Fp8SuiteOptions o;
  o.random_cases = 1 << 10;
  o.formats = {fp8::Format::e4m3fnuz, fp8::Format::e5m2fnuz, fp8::Format::e4m3b11fnuz};
  std::map<std::string, std::size_t> failed;  // format -> failed f16/f64 checks
  for (const Check& c : run_fp8_suite(faulty, GoldenDir::from_env(), o)) {
    const bool target = c.name.starts_with("f16 all") || c.name.starts_with("f64");
    EXPECT_EQ(c.passed(), !target) << c.format << " " << c.profile << " " << c.name;
    failed[c.format] += !c.passed();
  }
  // Per format: f16 and f64 of ml_dtypes' rne, rtz and sat tables, and of each profile that applies
  // (ml_dtypes, ml_dtypes-sat, llvm) against the reference in every rounding.
  for (const fp8::Format f : o.formats) {
    const auto profiles = std::count_if(fp8::kProfiles.begin(), fp8::kProfiles.end(), [&](const fp8::Profile& p) { return applies(p, f); });
    EXPECT_EQ(profiles, 3);
    EXPECT_EQ(failed[std::string(traits(f).name)], 6u + profiles * 2 * kMinifloatRoundings.size()) << traits(f).name;
  }
}

// A sub-byte code with bits above its width (here the sign at bit 7, as in an 8-bit code) is wrong.
void sign_at_bit7(std::size_t n, const float* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  const std::uint8_t sign = traits(p->format).sign_bit();
  for (std::size_t i = 0; i < n; ++i)
    if (out[i] & sign) out[i] = static_cast<std::uint8_t>((out[i] & ~sign) | 0x80);
}

TEST(Fp8Conformance, SubByteCodeWithHighBitsIsReported) {
  fp8::Impl faulty = kernels::reference<fp8::Impl>();
  faulty.name = "faulty";
  faulty.encode_f32 = sign_at_bit7;
  Fp8SuiteOptions o;
  o.random_cases = 1 << 10;
  o.formats = {fp8::Format::e2m3, fp8::Format::e3m2, fp8::Format::e2m1};
  o.profiles = {fp8::find_profile("ml_dtypes")};
  std::size_t failed = 0;
  for (const Check& c : run_fp8_suite(faulty, GoldenDir::from_env(), o)) {
    if (!c.name.starts_with("f32")) continue;
    ASSERT_FALSE(c.passed()) << c.format << " " << c.name;
    EXPECT_NE(c.first_errors.front().find("bits above the"), std::string::npos) << c.first_errors.front();
    ++failed;
  }
  EXPECT_EQ(failed, 3u * (1 + kMinifloatRoundings.size()));  // per format: the golden f32 sample, the sample
                                                              // against the reference in every rounding
}

TEST(Fp8Exhaustive, EveryF32InputOfEveryFormatMatchesTheStreamDigests) {
  Fp8SuiteOptions o;
  o.level = Level::full;
  o.ci_budget = true;
  o.threads = default_threads();
  o.random_cases = 1 << 10;
  // CI's budget: every format's default-profile stream, against the peers' digest or lowbit's
  // reference digest (docs/formats/minifloat.md); the reference only those with a peer's digest.
  std::size_t peer_digests = 0;
  for (fp8::Format f : fp8::kFormats)
    peer_digests += fp8_f32_stream_digest(GoldenDir::from_env(), fp8::default_profile(f), f)->source == "fp8/f32_streams.sha256";
  EXPECT_EQ(peer_digests, 9u);  // ml_dtypes' of 9 of its 11 types
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    SCOPED_TRACE(impl.name);
    std::vector<Check> checks = run_fp8_suite(impl, GoldenDir::from_env(), o);
    std::size_t streams = 0;
    for (const Check& c : checks) streams += c.name.starts_with("f32 all 2^32") && c.cases == (1ull << 32);
    EXPECT_EQ(streams, std::string_view(impl.name) == "reference" ? peer_digests : fp8::kFormats.size());
    expect_all_passed(checks);
  }
}

}  // namespace
