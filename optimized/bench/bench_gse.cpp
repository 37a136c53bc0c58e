// GSE-INT benchmarks: every kernel of the table, the reference included, and the public
// gse::encode / gse::decode, encoding f32 to GSE-INT8 (b = 8, groups of 32, 5-bit exponent fields,
// rne) and decoding it back to f32, at 64 Ki (cache) and 16 Mi (memory) elements.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <vector>

#include "bench.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;
using bench::kCache;
using bench::kMemory;
using bench::at;

constexpr gse::Format kFormat{8, 32, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
constexpr gse::EncodeParams kParams{kFormat, Rounding::rne, 0, 0, nullptr};

std::string encode_name(std::string_view impl) { return fmt::format("BM_gse_encode_f32_int8_g32_{}", impl); }
std::string decode_name(std::string_view impl) { return fmt::format("BM_gse_decode_int8_g32_f32_{}", impl); }

// What a step works on: values, their codes and exponent fields, an output.
struct Buffers {
  std::vector<float> values, out;
  gse::Encoded e;
  explicit Buffers(std::size_t n)
      : values(bench::normal_floats(n)), out(n), e(gse::encode(std::span<const float>(values), {kFormat})) {}
};

void register_gse(const gse::Impl& impl) {
  bench::stream(encode_name(impl.name), sizeof(float), [&impl](std::size_t n) {  // input bytes
    return [&impl, n, b = Buffers(n)]() mutable {
      BlockStats stats;
      gse::encode_kernel<float>(impl)(n, b.values.data(), b.e.codes.data(), b.e.exps.data(), &kParams, &stats);
    };
  });
  bench::stream(decode_name(impl.name), sizeof(float), [&impl](std::size_t n) {  // output bytes
    return [&impl, n, b = Buffers(n)]() mutable {
      benchmark::DoNotOptimize(gse::decode_kernel<float>(impl)(n, b.e.codes.data(), b.e.exps.data(), b.out.data(), &kFormat));
    };
  });
  if (std::string_view(impl.name) == "reference") return;
  auto& t = bench::targets();
  t.push_back({fmt::format("gse encode f32->int8 g32 {} 16Mi vs memcpy", impl.name), at(encode_name(impl.name), kMemory), at("BM_memcpy", kMemory), 0.8});
  t.push_back({fmt::format("gse encode f32->int8 g32 {} 64Ki vs memcpy", impl.name), at(encode_name(impl.name), kCache), at("BM_memcpy", kCache), 0.3});
  t.push_back({fmt::format("gse decode int8 g32->f32 {} 16Mi vs memcpy", impl.name), at(decode_name(impl.name), kMemory), at("BM_memcpy", kMemory), 0.8});
  t.push_back({fmt::format("gse decode int8 g32->f32 {} 64Ki vs memcpy", impl.name), at(decode_name(impl.name), kCache), at("BM_memcpy", kCache), 0.3});
}

void register_api() {
  bench::api_codec(
      "gse int8 g32 f32", encode_name, decode_name, kernels::best<gse::Impl>().name, sizeof(float),
      [](std::size_t n) {
        return [b = Buffers(n)]() mutable { gse::encode(std::span<const float>(b.values), std::span(b.e.codes), std::span(b.e.exps), {kFormat}); };
      },
      [](std::size_t n) { return [b = Buffers(n)]() mutable { gse::decode(b.e.codes, b.e.exps, std::span(b.out), {kFormat}); }; });
}

const bool registered = [] {
  for (const gse::Impl& impl : kernels::list<gse::Impl>())
    if (kernels::available(impl)) register_gse(impl);
  register_api();
  return true;
}();

}  // namespace
