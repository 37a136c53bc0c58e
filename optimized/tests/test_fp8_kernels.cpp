// Every FP8 kernel of the table against the reference on every tail (kernel_tester.hpp): lengths
// 0 .. 3W+1 and 3W+3, at unaligned offsets, inputs ending at the end of their heap blocks, guard
// bytes around the output, for every format, every profile that applies to it and every rounding
// (sr by Philox); then every f16 and bf16 pattern and boundary-biased f32 in one long call each.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <vector>

#include "fp8_cases.hpp"
#include "kernel_tester.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;

template <class T> std::vector<T> pool(std::size_t n) {  // structured cases: specials, ties, subnormals
  std::vector<T> v(n);
  if constexpr (std::is_same_v<T, double>) {
    const std::vector<std::uint64_t> bits = conformance::f64_cases(3, n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::bit_cast<double>(bits[(i * 7919) % bits.size()]);
  } else {
    const std::vector<std::uint32_t> bits = conformance::f32_cases(3, n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t b = bits[(i * 7919) % bits.size()];
      if constexpr (std::is_same_v<T, float>) v[i] = std::bit_cast<float>(b);
      else if constexpr (std::is_same_v<T, bf16>) v[i] = bf16{static_cast<std::uint16_t>(b >> 16)};
      else v[i] = f16{static_cast<std::uint16_t>(b ^ (b >> 16))};
    }
  }
  return v;
}

// 0 .. 3W+1, then 3W+3.
std::vector<std::size_t> fp8_tails(const fp8::Impl& impl) {
  std::vector<std::size_t> v = test::tail_lengths(impl.width, {3 * impl.width + 3});
  for (std::size_t n = 2 * impl.width + 2; n <= 3 * impl.width + 1; ++n) v.push_back(n);
  return v;
}

template <class In> void check_encode(const fp8::Impl& impl) {
  const std::vector<In> values = pool<In>(4096);
  const fp8::EncodeFn<In> kernel = fp8::encode_kernel<In>(impl), reference = fp8::encode_kernel<In>(kernels::reference<fp8::Impl>());
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& prof : test::applicable_profiles(f))
      for (Rounding r : kRoundings)
        ASSERT_TRUE(test::every_tail(fp8_tails(impl), [&](std::size_t n, std::size_t offset) {
          const test::Placed<In> in{std::span(values).subspan((n * 13 + offset * 101) % 1024, n), offset};
          fp8::EncodeParams p = fp8::encode_params(f, prof, FloatTraits<In>::type, r, 77);
          p.index0 = offset;
          return test::same_as_reference<std::uint8_t>(kernel, reference, offset, {n}, [&](auto fn, std::uint8_t* out) {
            fn(n, in.data(), out, &p);
          });
        })) << impl.name << " " << traits(f).name << " " << prof.name << " " << name(r) << " from " << name(FloatTraits<In>::type);
}

template <class Out> void check_decode(const fp8::Impl& impl) {
  std::vector<std::uint8_t> codes(256 * 3);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 37 + i / 256);
  const fp8::DecodeFn<Out> kernel = fp8::decode_kernel<Out>(impl), reference = fp8::decode_kernel<Out>(kernels::reference<fp8::Impl>());
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& prof : test::applicable_profiles(f))
      ASSERT_TRUE(test::every_tail(fp8_tails(impl), [&](std::size_t n, std::size_t offset) {
        const test::Placed<std::uint8_t> in{std::span(codes).subspan((n * 5 + offset) % 256, n), offset};
        const fp8::DecodeParams p = fp8::decode_params(f, prof);
        return test::same_as_reference<Out>(kernel, reference, offset, {n}, [&](auto fn, Out* out) { fn(n, in.data(), out, &p); });
      })) << impl.name << " " << traits(f).name << " " << prof.name << " to " << name(FloatTraits<Out>::type);
}

// One long call over `in` (kernel and reference), for every format, applicable profile, rne and rtz.
template <class In> ::testing::AssertionResult same_long(const fp8::Impl& impl, fp8::Format f, const std::vector<In>& in) {
  const fp8::EncodeFn<In> kernel = fp8::encode_kernel<In>(impl), reference = fp8::encode_kernel<In>(kernels::reference<fp8::Impl>());
  for (const fp8::Profile& prof : test::applicable_profiles(f))
    for (Rounding r : {Rounding::rne, Rounding::rtz}) {
      const fp8::EncodeParams p = fp8::encode_params(f, prof, FloatTraits<In>::type, r);
      ::testing::AssertionResult res = test::same_as_reference<std::uint8_t>(kernel, reference, 0, {in.size()}, [&](auto fn, std::uint8_t* out) {
        fn(in.size(), in.data(), out, &p);
      });
      if (!res) return res << " (" << traits(f).name << " " << prof.name << " " << name(r) << " from " << name(FloatTraits<In>::type) << ")";
    }
  return ::testing::AssertionSuccess();
}

TEST(Fp8Kernels, EveryF16AndBf16PatternAndBoundaryF32EqualTheReference) {
  std::vector<f16> all16(1 << 16);
  std::vector<bf16> allb(1 << 16);
  for (std::size_t i = 0; i < all16.size(); ++i) {
    all16[i] = f16{static_cast<std::uint16_t>(i)};
    allb[i] = bf16{static_cast<std::uint16_t>(i)};
  }
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    for (fp8::Format f : fp8::kFormats) {
      std::vector<float> f32;
      for (std::uint32_t b : test::boundary_f32(f, 5, 1 << 16)) f32.push_back(std::bit_cast<float>(b));
      ASSERT_TRUE(same_long(impl, f, all16)) << impl.name;
      ASSERT_TRUE(same_long(impl, f, allb)) << impl.name;
      ASSERT_TRUE(same_long(impl, f, f32)) << impl.name;
    }
  }
}

TEST(Fp8Kernels, EveryTailEveryOffsetEqualsTheReference) {
  std::size_t checked = 0;
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    check_encode<float>(impl);
    check_encode<double>(impl);
    check_encode<f16>(impl);
    check_encode<bf16>(impl);
    check_decode<float>(impl);
    check_decode<f16>(impl);
    check_decode<bf16>(impl);
    if (::testing::Test::HasFatalFailure()) return;
    ++checked;
  }
  EXPECT_GE(checked, 2u) << "only the reference ran: no SIMD kernel for this CPU";
}

}  // namespace
