// Every FP8 kernel of the table against the reference on every tail (kernel_tester.hpp): lengths
// 0 .. 2W+1 and 3W+3, at unaligned offsets, inputs ending at the end of their heap blocks, guard
// bytes around the output, for every format, profile and rounding (sr by Philox).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <vector>

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

template <class In> void check_encode(const fp8::Impl& impl) {
  const std::vector<In> values = pool<In>(4096);
  const fp8::EncodeFn<In> kernel = fp8::encode_kernel<In>(impl), reference = fp8::encode_kernel<In>(kernels::reference<fp8::Impl>());
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& prof : fp8::kProfiles)
      for (Rounding r : kRoundings)
        ASSERT_TRUE(test::every_tail(test::tail_lengths(impl.width, {3 * impl.width + 3}), [&](std::size_t n, std::size_t offset) {
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
    for (const fp8::Profile& prof : fp8::kProfiles)
      ASSERT_TRUE(test::every_tail(test::tail_lengths(impl.width, {3 * impl.width + 3}), [&](std::size_t n, std::size_t offset) {
        const test::Placed<std::uint8_t> in{std::span(codes).subspan((n * 5 + offset) % 256, n), offset};
        const fp8::DecodeParams p = fp8::decode_params(f, prof);
        return test::same_as_reference<Out>(kernel, reference, offset, {n}, [&](auto fn, Out* out) { fn(n, in.data(), out, &p); });
      })) << impl.name << " " << traits(f).name << " " << prof.name << " to " << name(FloatTraits<Out>::type);
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
