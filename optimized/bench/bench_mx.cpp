// MX benchmarks: every kernel of the table (today the reference) and the public mx::encode /
// mx::decode, encoding f32 to MXFP4 (E2M1 elements, blocks of 32, rna) and decoding it back to f32,
// at 64 Ki (cache) and 16 Mi (memory) elements.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit;

constexpr mx::Format kFormat = mx::Format::fp4_e2m1;
constexpr mx::EncodeParams kEncode{kFormat, Rounding::rna, 0, 0};
constexpr mx::DecodeParams kDecode{kFormat};

std::string encode_name(std::string_view impl) { return fmt::format("BM_mx_encode_f32_{}_{}", traits(kFormat).name, impl); }
std::string decode_name(std::string_view impl) { return fmt::format("BM_mx_decode_{}_f32_{}", traits(kFormat).name, impl); }

// What a step works on: values, their codes and scales, an output.
struct Buffers {
  std::vector<float> values, out;
  mx::Encoded e;
  explicit Buffers(std::size_t n) : values(bench::normal_floats(n)), out(n), e(mx::encode(std::span<const float>(values), {kFormat})) {}
};

void register_mx(const mx::Impl& impl) {
  const mx::EncodeFn encode = impl.encode_f32 ? impl.encode_f32 : kernels::reference<mx::Impl>().encode_f32;
  const mx::DecodeFn decode = impl.decode_f32 ? impl.decode_f32 : kernels::reference<mx::Impl>().decode_f32;
  bench::stream(encode_name(impl.name), sizeof(float), [encode](std::size_t n) {  // input bytes
    return [encode, n, b = Buffers(n)]() mutable { encode(n, b.values.data(), b.e.codes.data(), b.e.scales.data(), &kEncode, nullptr); };
  });
  bench::stream(decode_name(impl.name), sizeof(float), [decode](std::size_t n) {  // output bytes
    return [decode, n, b = Buffers(n)]() mutable { decode(n, b.e.codes.data(), b.e.scales.data(), b.out.data(), &kDecode); };
  });
}

void register_api() {
  bench::api_codec(
      fmt::format("{} f32", traits(kFormat).name), encode_name, decode_name, kernels::best<mx::Impl>().name, sizeof(float),
      [](std::size_t n) {
        return [b = Buffers(n)]() mutable { mx::encode(std::span<const float>(b.values), std::span(b.e.codes), std::span(b.e.scales), {kFormat}); };
      },
      [](std::size_t n) { return [b = Buffers(n)]() mutable { mx::decode(b.e.codes, b.e.scales, std::span(b.out), {kFormat}); }; });
}

const bool registered = [] {
  for (const mx::Impl& impl : kernels::list<mx::Impl>())
    if (kernels::available(impl)) register_mx(impl);
  register_api();
  return true;
}();

}  // namespace
