// Every MX kernel of the table but the reference against the reference on every tail
// (kernel_tester.hpp): codes, scales and BlockStats, decoded values, for every format and rounding.
// The list has no SIMD MX row yet: the test then skips, and a new row is tested here as it is added.
#include <gtest/gtest.h>

#include <bit>
#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"
#include "lowbit/reference/mx.hpp"

namespace {

using namespace lowbit;

mx::EncodeFn encode_fn(const mx::Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : &ref::mx_encode_ref; }
mx::DecodeFn decode_fn(const mx::Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : &ref::mx_decode_ref; }

TEST(MxKernels, EveryTailEveryOffsetEqualsTheReference) {
  std::vector<float> values;  // structured cases: specials, ties, subnormals, scaled into blocks
  for (std::uint32_t b : conformance::f32_cases(5, 1024)) values.push_back(std::bit_cast<float>(b));
  std::size_t checked = 0;
  for (const mx::Impl& impl : kernels::list<mx::Impl>()) {
    if (!kernels::available(impl) || std::string_view(impl.name) == "reference") continue;
    const std::vector<std::size_t> lengths = test::tail_lengths(impl.width, {2 * mx::kBlock + 1, 3 * impl.width + 3, 5 * mx::kBlock + 7});
    for (const mx::Traits& t : mx::kFormats)
      for (Rounding r : kRoundings)
        ASSERT_TRUE(test::every_tail(lengths, [&](std::size_t n, std::size_t offset) {
          const test::Placed<float> in{std::span<const float>(values).subspan((n * 13 + offset) % 512, n), offset};
          const mx::EncodeParams p{t.format, r, 99, offset};
          const std::size_t blocks = mx::blocks(n);
          ::testing::AssertionResult e = test::same_as_reference<std::uint8_t, std::uint8_t>(
              encode_fn(impl), &ref::mx_encode_ref, offset, {n, blocks}, [&](auto fn, std::uint8_t* codes, std::uint8_t* scales) {
                BlockStats s;
                fn(n, in.data(), codes, scales, &p, &s);
                return s;
              });
          if (!e) return e << " encoding";
          std::vector<std::uint8_t> codes(n), scales(blocks);
          ref::mx_encode_ref(n, in.data(), codes.data(), scales.data(), &p, nullptr);
          const test::Placed<std::uint8_t> c{codes, offset}, s{scales, offset % 2};
          const mx::DecodeParams d{t.format};
          return test::same_as_reference<float>(decode_fn(impl), &ref::mx_decode_ref, offset, {n},
                                                [&](auto fn, float* out) { fn(n, c.data(), s.data(), out, &d); })
                 << " decoding";
        })) << impl.name << " " << t.name << " " << name(r);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no MX kernel but the reference in this build";
}

}  // namespace
