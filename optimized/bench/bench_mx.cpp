// MX benchmarks: every kernel of the table and the public mx::encode / mx::decode, encoding f32 to
// MXFP8 (E4M3 elements) and MXFP4 (E2M1), blocks of 32, rna (the default), and decoding them back to
// f32, at 64 Ki (cache) and 16 Mi (memory) elements; the SIMD kernels' targets as FP8's.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit;

constexpr mx::Format kFormats[] = {mx::Format::fp8_e4m3, mx::Format::fp4_e2m1};

std::string encode_name(mx::Format f, std::string_view impl) { return fmt::format("BM_mx_encode_f32_{}_{}", traits(f).name, impl); }
std::string decode_name(mx::Format f, std::string_view impl) { return fmt::format("BM_mx_decode_{}_f32_{}", traits(f).name, impl); }

// What a step works on: values, their codes and scales, an output.
struct Buffers {
  std::vector<float> values, out;
  mx::Encoded e;
  Buffers(std::size_t n, mx::Format f) : values(bench::normal_floats(n)), out(n), e(mx::encode(std::span<const float>(values), {f})) {}
};

void register_mx(const mx::Impl& impl, mx::Format f) {
  const mx::EncodeFn encode = impl.encode_f32 ? impl.encode_f32 : kernels::reference<mx::Impl>().encode_f32;
  const mx::DecodeFn decode = impl.decode_f32 ? impl.decode_f32 : kernels::reference<mx::Impl>().decode_f32;
  const mx::EncodeParams ep{f, mx::Options{}.rounding, 0, 0};
  const mx::DecodeParams dp{f};
  bench::stream(encode_name(f, impl.name), sizeof(float), [encode, ep, f](std::size_t n) {  // input bytes
    return [encode, ep, n, b = Buffers(n, f)]() mutable { encode(n, b.values.data(), b.e.codes.data(), b.e.scales.data(), &ep, nullptr); };
  });
  bench::stream(decode_name(f, impl.name), sizeof(float), [decode, dp, f](std::size_t n) {  // output bytes
    return [decode, dp, n, b = Buffers(n, f)]() mutable { decode(n, b.e.codes.data(), b.e.scales.data(), b.out.data(), &dp); };
  });
  if (std::string_view(impl.name) != "reference")
    bench::codec_targets(
        std::string(traits(f).name), impl.name, [f](std::string_view isa) { return encode_name(f, isa); },
        [f](std::string_view isa) { return decode_name(f, isa); });
}

void register_api(mx::Format f) {
  bench::api_codec(
      fmt::format("{} f32", traits(f).name), [f](std::string_view impl) { return encode_name(f, impl); },
      [f](std::string_view impl) { return decode_name(f, impl); }, kernels::best<mx::Impl>().name, sizeof(float),
      [f](std::size_t n) {
        return [f, b = Buffers(n, f)]() mutable { mx::encode(std::span<const float>(b.values), std::span(b.e.codes), std::span(b.e.scales), {f}); };
      },
      [f](std::size_t n) { return [f, b = Buffers(n, f)]() mutable { mx::decode(b.e.codes, b.e.scales, std::span(b.out), {f}); }; });
}

const bool registered = [] {
  for (mx::Format f : kFormats) {
    for (const mx::Impl& impl : kernels::list<mx::Impl>())
      if (kernels::available(impl)) register_mx(impl, f);
    register_api(f);
  }
  return true;
}();

}  // namespace
