// NF4 benchmarks: every kernel of the table, the reference included, quantizing f32 to NF4
// (blocks of 64, lowbit profile) and dequantizing it back to f32, at 64 Ki (cache) and 16 Mi
// (memory) elements.
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

const nf4::Params kParams = nf4::make_params(nf4::Table::nf4, nf4::default_profile(), 64);

void register_nf4(const nf4::Impl& impl) {
  const std::string q = fmt::format("BM_nf4_quantize_f32_{}", impl.name);
  benchmark::RegisterBenchmark(q.c_str(), [impl](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> in = bench::normal_floats(n);
    std::vector<std::uint8_t> packed(nf4::packed_bytes(n));
    std::vector<float> absmax(nf4::blocks(n, kParams.block));
    for (auto _ : s) {
      impl.encode(n, in.data(), packed.data(), absmax.data(), &kParams);
      benchmark::DoNotOptimize(packed.data());
      benchmark::DoNotOptimize(absmax.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(float));  // input bytes
  })->Arg(kCache)->Arg(kMemory);

  const std::string d = fmt::format("BM_nf4_dequantize_f32_{}", impl.name);
  benchmark::RegisterBenchmark(d.c_str(), [impl](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> values = bench::normal_floats(n);
    std::vector<std::uint8_t> packed(nf4::packed_bytes(n));
    std::vector<float> absmax(nf4::blocks(n, kParams.block));
    impl.encode(n, values.data(), packed.data(), absmax.data(), &kParams);
    std::vector<float> out(n);
    for (auto _ : s) {
      impl.decode(n, packed.data(), absmax.data(), out.data(), &kParams);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(float));  // output bytes
  })->Arg(kCache)->Arg(kMemory);

  if (std::string_view(impl.name) == "reference") return;
  auto& t = bench::targets();
  t.push_back({fmt::format("nf4 quantize f32 b64 {} 16Mi vs memcpy", impl.name), at(q, kMemory), at("BM_memcpy", kMemory), 0.6});
  t.push_back({fmt::format("nf4 quantize f32 b64 {} 64Ki vs reference", impl.name), at(q, kCache),
               at("BM_nf4_quantize_f32_reference", kCache), 5.0});
  t.push_back({fmt::format("nf4 dequantize f32 b64 {} 16Mi vs memcpy", impl.name), at(d, kMemory), at("BM_memcpy", kMemory), 0.8});
}

const bool registered = [] {
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>())
    if (kernels::available(impl)) register_nf4(impl);
  return true;
}();

}  // namespace
