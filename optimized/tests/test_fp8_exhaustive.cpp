// Every f32 pattern through each SIMD kernel and the reference, rne with the default profile, for
// the formats the conformance suite's exhaustive golden streams do not cover (it checks e4m3 and
// e5m2 on every f32, every profile: conformance/suites/tests/test_fp8_suite.cpp). One test per
// format, so that the time each takes shows (docs/performance.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>
#include <vector>

#include "lowbit/conformance/sweep.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;

struct Mismatches {
  std::uint64_t count = 0, first = ~std::uint64_t{0};
};

// Kernel and reference on [0, 2^32) in chunks, on every thread.
Mismatches compare_every_f32(fp8::EncodeFn<float> kernel, fp8::EncodeFn<float> reference, const fp8::EncodeParams& p) {
  constexpr std::uint64_t kChunk = 1 << 20, kChunks = (std::uint64_t{1} << 32) / kChunk;
  std::atomic<std::uint64_t> next{0}, count{0}, first{~std::uint64_t{0}};
  auto work = [&] {
    std::vector<float> in(kChunk);
    std::vector<std::uint8_t> got(kChunk), want(kChunk);
    for (std::uint64_t c; (c = next.fetch_add(1)) < kChunks;) {
      for (std::uint64_t i = 0; i < kChunk; ++i) in[i] = std::bit_cast<float>(static_cast<std::uint32_t>(c * kChunk + i));
      kernel(kChunk, in.data(), got.data(), &p);
      reference(kChunk, in.data(), want.data(), &p);
      for (std::uint64_t i = 0; i < kChunk; ++i)
        if (got[i] != want[i]) {
          count.fetch_add(1);
          std::uint64_t seen = first.load();
          while (c * kChunk + i < seen && !first.compare_exchange_weak(seen, c * kChunk + i)) {}
        }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < conformance::default_threads(); ++t) threads.emplace_back(work);
  for (std::thread& t : threads) t.join();
  return {count.load(), first.load()};
}

class Fp8KernelsExhaustive : public ::testing::TestWithParam<fp8::Format> {};

TEST_P(Fp8KernelsExhaustive, EveryF32EqualsTheReference) {
  const fp8::Format f = GetParam();
  const fp8::EncodeParams p = fp8::encode_params(f, fp8::default_profile(), FloatType::f32);
  std::size_t checked = 0;
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl) || std::string_view(impl.name) == "reference") continue;
    const Mismatches m = compare_every_f32(impl.encode_f32, kernels::reference<fp8::Impl>().encode_f32, p);
    EXPECT_EQ(m.count, 0u) << impl.name << " " << traits(f).name << ": first at f32 0x" << std::hex << m.first;
    ++checked;
  }
  EXPECT_GE(checked, 1u) << "no SIMD kernel for this CPU";
}

std::vector<fp8::Format> not_in_the_suite() {
  std::vector<fp8::Format> v;
  for (fp8::Format f : fp8::kFormats)
    if (f != fp8::Format::e4m3 && f != fp8::Format::e5m2) v.push_back(f);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Formats, Fp8KernelsExhaustive, ::testing::ValuesIn(not_in_the_suite()),
                         [](const ::testing::TestParamInfo<fp8::Format>& i) { return std::string(traits(i.param).name); });

}  // namespace
