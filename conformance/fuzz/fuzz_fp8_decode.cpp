// Minifloat decode: every code decodes, so decoding never fails. Every kernel this CPU runs, to f32,
// f16 and bf16, must equal the reference bit for bit under the format and profile the first two bytes
// pick (a profile that applies to the format; the bytes cut to the format's width).
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
  using namespace lowbit;
  fuzz::Bytes in(data, size);
  fp8::Options o;
  o.format = fp8::kFormats[in.u8() % fp8::kFormats.size()];
  std::vector<const fp8::Profile*> profiles;
  for (const fp8::Profile& p : fp8::kProfiles)
    if (applies(p, o.format)) profiles.push_back(&p);
  o.profile = *profiles[in.u8() % profiles.size()];
  const std::span<const std::uint8_t> rest = in.rest();
  std::vector<std::uint8_t> codes(rest.begin(), rest.end());
  for (std::uint8_t& c : codes) c &= static_cast<std::uint8_t>(traits(o.format).codes() - 1);
  check<float>(codes, o);
  check<f16>(codes, o);
  check<bf16>(codes, o);
  return 0;
}
