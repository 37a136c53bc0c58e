// FP8 decode: every byte is a code, so decoding never fails. Every kernel this CPU runs, to f32, f16
// and bf16, must equal the reference bit for bit under the format and profile the first byte picks.
#include "fuzz.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

template <class Out> void check(std::span<const std::uint8_t> codes, lowbit::fp8::Options o) {
  std::vector<Out> want(codes.size()), got(codes.size());
  o.impl = &lowbit::kernels::reference<lowbit::fp8::Impl>();
  lowbit::fp8::decode(codes, std::span(want), o);  // no exception: any byte is valid
  for (const lowbit::fp8::Impl& impl : lowbit::kernels::list<lowbit::fp8::Impl>()) {
    if (!lowbit::kernels::available(impl)) continue;
    o.impl = &impl;
    lowbit::fp8::decode(codes, std::span(got), o);
    LOWBIT_FUZZ_CHECK(lowbit::fuzz::same_bits<Out>(got, want));
  }
  o.impl = nullptr;  // the dispatched default
  lowbit::fp8::decode(codes, std::span(got), o);
  LOWBIT_FUZZ_CHECK(lowbit::fuzz::same_bits<Out>(got, want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lowbit::fuzz::Bytes in(data, size);
  const std::uint8_t pick = in.u8();
  lowbit::fp8::Options o;
  o.format = pick & 1 ? lowbit::fp8::Format::e5m2 : lowbit::fp8::Format::e4m3;
  o.profile = lowbit::fp8::kProfiles[(pick >> 1) % lowbit::fp8::kProfiles.size()];
  const std::span<const std::uint8_t> codes = in.rest();
  check<float>(codes, o);
  check<lowbit::f16>(codes, o);
  check<lowbit::bf16>(codes, o);
  return 0;
}
