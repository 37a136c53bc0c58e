// Every kernel of the table on every tail: lengths 0 .. 2W+1 and 3W+3, at unaligned offsets,
// with each input ending exactly at the end of its heap buffer (ASan sees any read past it) and
// guard bytes after the output (any write past it fails here). Expected output: the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

using namespace lowbit;
constexpr std::uint8_t kGuard = 0xA5;

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

std::vector<std::size_t> lengths(unsigned width) {
  std::vector<std::size_t> v;
  for (std::size_t n = 0; n <= 2 * width + 1; ++n) v.push_back(n);
  v.push_back(3 * width + 3);
  return v;
}

template <class In> void check_encode(const fp8::Impl& impl) {
  const std::vector<In> values = pool<In>(4096);
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& prof : fp8::kProfiles)
      for (Rounding r : kRoundings)
        for (std::size_t n : lengths(impl.width))
          for (std::size_t offset = 0; offset < 4; ++offset) {
            std::vector<In> in(offset + n);  // the input ends at the end of the allocation
            std::copy_n(values.begin() + (n * 13 + offset * 101) % 1024, n, in.begin() + offset);
            std::vector<std::uint8_t> got(offset + n + 16, kGuard), want(n);
            fp8::EncodeParams p = fp8::encode_params(f, prof, FloatTraits<In>::type, r, 77);
            p.index0 = offset;
            fp8::encode_kernel<In>(impl)(n, in.data() + offset, got.data() + offset, &p);
            ref::fp8_encode_ref<In>(n, in.data() + offset, want.data(), &p);
            for (std::size_t i = 0; i < offset; ++i) ASSERT_EQ(got[i], kGuard) << "write before the output";
            for (std::size_t i = 0; i < 16; ++i) ASSERT_EQ(got[offset + n + i], kGuard) << "write past the end, n=" << n;
            ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin() + offset))
                << impl.name << " " << traits(f).name << " " << prof.name << " " << name(r) << " n=" << n << " offset=" << offset;
          }
}

template <class Out> void check_decode(const fp8::Impl& impl) {
  std::vector<std::uint8_t> codes(256 * 3);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 37 + i / 256);
  for (fp8::Format f : fp8::kFormats)
    for (const fp8::Profile& prof : fp8::kProfiles)
      for (std::size_t n : lengths(impl.width))
        for (std::size_t offset = 0; offset < 4; ++offset) {
          std::vector<std::uint8_t> in(offset + n);
          std::copy_n(codes.begin() + (n * 5 + offset) % 256, n, in.begin() + offset);
          const fp8::DecodeParams p = fp8::decode_params(f, prof);
          std::vector<std::uint8_t> got((offset + n + 8) * sizeof(Out), kGuard);
          std::vector<Out> want(n);
          Out* out = reinterpret_cast<Out*>(got.data()) + offset;  // byte buffer: any offset
          fp8::decode_kernel<Out>(impl)(n, in.data() + offset, out, &p);
          ref::fp8_decode_ref<Out>(n, in.data() + offset, want.data(), &p);
          for (std::size_t b = 0; b < offset * sizeof(Out); ++b) ASSERT_EQ(got[b], kGuard);
          for (std::size_t b = (offset + n) * sizeof(Out); b < got.size(); ++b) ASSERT_EQ(got[b], kGuard) << "write past the end, n=" << n;
          ASSERT_TRUE(n == 0 || std::memcmp(out, want.data(), n * sizeof(Out)) == 0)
              << impl.name << " " << traits(f).name << " " << prof.name << " n=" << n << " offset=" << offset;
        }
}

TEST(Fp8Kernels, EveryTailEveryOffsetEqualsTheReference) {
  std::size_t checked = 0;
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    SCOPED_TRACE(impl.name);
    check_encode<float>(impl);
    check_encode<double>(impl);
    check_encode<f16>(impl);
    check_encode<bf16>(impl);
    check_decode<float>(impl);
    check_decode<f16>(impl);
    check_decode<bf16>(impl);
    ++checked;
  }
  EXPECT_GE(checked, 2u) << "only the reference ran: no SIMD kernel for this CPU";
}

}  // namespace
