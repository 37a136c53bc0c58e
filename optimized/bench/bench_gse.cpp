// GSE-INT benchmarks: every kernel of the table, the reference included, encoding f32 to
// GSE-INT8 (b = 8, groups of 32, 5-bit exponent fields, rne) and decoding it back to f32, at
// 64 Ki (cache) and 16 Mi (memory) elements.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;
using bench::kCache;
using bench::kMemory;
using bench::at;

constexpr gse::Format kFormat{8, 32, 5, 15, 0, gse::MantissaOverflow::saturate, gse::ExponentOverflow::saturate};
constexpr gse::EncodeParams kParams{kFormat, Rounding::rne, 0, 0, nullptr};

void register_gse(const gse::Impl& impl) {
  const std::string enc = fmt::format("BM_gse_encode_f32_int8_g32_{}", impl.name);
  benchmark::RegisterBenchmark(enc.c_str(), [impl](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> in = bench::normal_floats(n);
    std::vector<std::int8_t> codes(n);
    std::vector<std::uint8_t> exps(kFormat.groups(n));
    BlockStats stats;
    for (auto _ : s) {
      gse::encode_kernel<float>(impl)(n, in.data(), codes.data(), exps.data(), &kParams, &stats);
      benchmark::DoNotOptimize(codes.data());
      benchmark::DoNotOptimize(exps.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(float));  // input bytes
  })->Arg(kCache)->Arg(kMemory);

  const std::string dec = fmt::format("BM_gse_decode_int8_g32_f32_{}", impl.name);
  benchmark::RegisterBenchmark(dec.c_str(), [impl](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> values = bench::normal_floats(n);
    std::vector<std::int8_t> codes(n);
    std::vector<std::uint8_t> exps(kFormat.groups(n));
    gse::encode_kernel<float>(impl)(n, values.data(), codes.data(), exps.data(), &kParams, nullptr);
    std::vector<float> out(n);
    for (auto _ : s) {
      gse::decode_kernel<float>(impl)(n, codes.data(), exps.data(), out.data(), &kFormat);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(float));  // output bytes
  })->Arg(kCache)->Arg(kMemory);

  if (std::string_view(impl.name) == "reference") return;
  auto& t = bench::targets();
  t.push_back({fmt::format("gse encode f32->int8 g32 {} 16Mi vs memcpy", impl.name), at(enc, kMemory), at("BM_memcpy", kMemory), 0.8});
  t.push_back({fmt::format("gse encode f32->int8 g32 {} 64Ki vs memcpy", impl.name), at(enc, kCache), at("BM_memcpy", kCache), 0.3});
  t.push_back({fmt::format("gse decode int8 g32->f32 {} 16Mi vs memcpy", impl.name), at(dec, kMemory), at("BM_memcpy", kMemory), 0.8});
  t.push_back({fmt::format("gse decode int8 g32->f32 {} 64Ki vs memcpy", impl.name), at(dec, kCache), at("BM_memcpy", kCache), 0.3});
}

const bool registered = [] {
  for (const gse::Impl& impl : kernels::list<gse::Impl>())
    if (kernels::available(impl)) register_gse(impl);
  return true;
}();

}  // namespace
