// lowbit-bench: every FP8 kernel of the kernel table against a memcpy baseline at the same
// element counts. Speed targets are ratios read off one run (docs/performance.md).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstring>
#include <random>
#include <vector>

#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;
constexpr std::int64_t kSizes[] = {64 << 10, 16 << 20};

std::vector<float> inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 64.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void BM_memcpy(benchmark::State& s) {  // f32 elements, like the encoders' input
  const std::size_t n = s.range(0);
  std::vector<float> a = inputs(n), b(n);
  for (auto _ : s) {
    std::memcpy(b.data(), a.data(), n * sizeof(float));
    benchmark::DoNotOptimize(b.data());
  }
  s.SetItemsProcessed(s.iterations() * n);
  s.SetBytesProcessed(s.iterations() * n * sizeof(float));
}

void register_all() {
  for (std::int64_t n : kSizes) benchmark::RegisterBenchmark("BM_memcpy", BM_memcpy)->Arg(n);
  for (const Fp8Impl& impl : fp8_impls()) {
    if (!impl.available()) continue;
    for (Fp8Format f : kFp8Formats) {
      const std::string fname(traits(f).name);
      const Fp8EncodeParams ep = make_encode_params(f, default_fp8_profile(), FloatType::f32);
      const Fp8DecodeParams dp = make_decode_params(f, default_fp8_profile());
      auto enc = [impl, ep](benchmark::State& s) {
        const std::size_t n = s.range(0);
        std::vector<float> in = inputs(n);
        std::vector<std::uint8_t> out(n);
        for (auto _ : s) {
          encode_kernel<float>(impl)(n, in.data(), out.data(), &ep);
          benchmark::DoNotOptimize(out.data());
        }
        s.SetItemsProcessed(s.iterations() * n);
        s.SetBytesProcessed(s.iterations() * n * sizeof(float));
      };
      auto dec = [impl, ep, dp](benchmark::State& s) {
        const std::size_t n = s.range(0);
        std::vector<float> vals = inputs(n), out(n);
        std::vector<std::uint8_t> codes(n);
        encode_kernel<float>(impl)(n, vals.data(), codes.data(), &ep);
        for (auto _ : s) {
          decode_kernel<float>(impl)(n, codes.data(), out.data(), &dp);
          benchmark::DoNotOptimize(out.data());
        }
        s.SetItemsProcessed(s.iterations() * n);
        s.SetBytesProcessed(s.iterations() * n * sizeof(float));
      };
      for (std::int64_t n : kSizes) {
        benchmark::RegisterBenchmark(fmt::format("BM_encode_f32_{}_{}", fname, impl.name).c_str(), enc)->Arg(n);
        benchmark::RegisterBenchmark(fmt::format("BM_decode_{}_f32_{}", fname, impl.name).c_str(), dec)->Arg(n);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
