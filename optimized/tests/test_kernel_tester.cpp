// The kernel tester's teeth: kernels broken on purpose (a write past the end or before the start,
// a wrong last tail element, a wrong result) must each be reported, with the length that shows it.
#include <gtest/gtest.h>

#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"
#include "lowbit/reference/gse.hpp"

namespace {

using namespace lowbit;
constexpr std::size_t kWidth = 16;  // the broken kernels' "vector width"

void past_the_end(std::size_t n, const float* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  if (n % kWidth) out[n] = 0;  // the tail's last vector stored whole
}
void before_the_start(std::size_t n, const float* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  if (n > kWidth) out[-1] = out[0];
}
void last_tail_element(std::size_t n, const float* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  ref::fp8_encode_ref(n, in, out, p);
  if (n > kWidth && n % kWidth == kWidth - 1) out[n - 1] ^= 1;
}
bool always_valid(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, float* out, const gse::Format* f) {
  ref::gse_decode_ref(n, codes, exps, out, f);
  return true;  // never reports a code outside +-max
}

::testing::AssertionResult run(fp8::EncodeFn<float> kernel) {
  std::vector<float> values(4 * kWidth);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.37f - 5.0f;
  const fp8::EncodeParams p = fp8::encode_params(fp8::Format::e4m3, fp8::default_profile(), FloatType::f32);
  return test::every_tail(test::tail_lengths(kWidth, {3 * kWidth + 3}), [&](std::size_t n, std::size_t offset) {
    const test::Placed<float> in{std::span<const float>(values).first(n), offset};
    return test::same_as_reference<std::uint8_t>(kernel, &ref::fp8_encode_ref<float>, offset, {n},
                                                 [&](auto fn, std::uint8_t* out) { fn(n, in.data(), out, &p); });
  });
}

TEST(KernelTester, PassesTheReferenceItself) { EXPECT_TRUE(run(&ref::fp8_encode_ref<float>)); }

TEST(KernelTester, ReportsAWritePastTheEnd) {
  const ::testing::AssertionResult r = run(past_the_end);
  ASSERT_FALSE(r);
  EXPECT_STREQ(r.message(), "n=1 offset=0: output 0: written 1 byte(s) past the end (1 elements of 1 bytes)");
}

TEST(KernelTester, ReportsAWriteBeforeTheStart) {
  const ::testing::AssertionResult r = run(before_the_start);
  ASSERT_FALSE(r);
  EXPECT_STREQ(r.message(), "n=17 offset=0: output 0: written 1 byte(s) before the start (17 elements of 1 bytes)");
}

TEST(KernelTester, ReportsAWrongLastTailElement) {
  const ::testing::AssertionResult r = run(last_tail_element);
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("n=31 offset=0: output 0[30] of 31: got 0x"), std::string::npos) << r.message();
}

TEST(KernelTester, ReportsAWrongResult) {
  const gse::Format f{4, 16, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
  const std::vector<std::int8_t> codes{1, -7, 7, 0, -8, 3};  // -8 is outside +-7
  const std::vector<std::uint8_t> exps{15};
  const auto call = [&](auto fn, float* out) { return fn(codes.size(), codes.data(), exps.data(), out, &f); };
  EXPECT_TRUE(test::same_as_reference<float>(&ref::gse_decode_ref<float>, &ref::gse_decode_ref<float>, 1, {codes.size()}, call));
  const ::testing::AssertionResult r = test::same_as_reference<float>(&always_valid, &ref::gse_decode_ref<float>, 1, {codes.size()}, call);
  ASSERT_FALSE(r);
  EXPECT_STREQ(r.message(), "returned true, the reference false");
}

}  // namespace
