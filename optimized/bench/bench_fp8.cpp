// lowbit-bench: every FP8 kernel of the kernel table, the reference included, against a memcpy
// baseline at the same element counts (f32 elements). The speed targets are ratios read off this
// one run; the table at the end prints them (docs/performance.md).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <unistd.h>

#include <bit>
#include <cstring>
#include <map>
#include <ostream>
#include <random>
#include <vector>

#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;
constexpr std::int64_t kCache = 64 << 10, kMemory = 16 << 20;

// Values like weights or activations: normal, sigma 64, a few beyond the E4M3 range.
template <class T> std::vector<T> inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 64.f);
  std::vector<T> v(n);
  for (T& x : v) {
    const float f = d(rng);
    if constexpr (std::is_same_v<T, f16>) x = std::bit_cast<f16>(static_cast<_Float16>(f));
    else if constexpr (std::is_same_v<T, bf16>) x = bf16{static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) >> 16)};
    else x = static_cast<T>(f);
  }
  return v;
}

void BM_memcpy(benchmark::State& s) {
  const std::size_t n = s.range(0);
  std::vector<float> a = inputs<float>(n), b(n);
  for (auto _ : s) {
    std::memcpy(b.data(), a.data(), n * sizeof(float));
    benchmark::DoNotOptimize(b.data());
  }
  s.SetItemsProcessed(s.iterations() * n);
  s.SetBytesProcessed(s.iterations() * n * sizeof(float));
}

template <class In> void register_encode(const Fp8Impl& impl, Fp8Format f) {
  const Fp8EncodeParams p = make_encode_params(f, default_fp8_profile(), FloatTraits<In>::type);
  auto run = [impl, p](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<In> in = inputs<In>(n);
    std::vector<std::uint8_t> out(n);
    for (auto _ : s) {
      encode_kernel<In>(impl)(n, in.data(), out.data(), &p);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(In));  // input bytes
  };
  const std::string name = fmt::format("BM_encode_{}_{}_{}", lowbit::name(FloatTraits<In>::type), traits(f).name, impl.name);
  benchmark::RegisterBenchmark(name.c_str(), run)->Arg(kCache)->Arg(kMemory);
}

template <class Out> void register_decode(const Fp8Impl& impl, Fp8Format f) {
  const Fp8DecodeParams p = make_decode_params(f, default_fp8_profile());
  auto run = [impl, f, p](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> values = inputs<float>(n);
    std::vector<std::uint8_t> codes(n);
    const Fp8EncodeParams ep = make_encode_params(f, default_fp8_profile(), FloatType::f32);
    encode_kernel<float>(impl)(n, values.data(), codes.data(), &ep);
    std::vector<Out> out(n);
    for (auto _ : s) {
      decode_kernel<Out>(impl)(n, codes.data(), out.data(), &p);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(Out));  // output bytes
  };
  const std::string name = fmt::format("BM_decode_{}_{}_{}", traits(f).name, lowbit::name(FloatTraits<Out>::type), impl.name);
  benchmark::RegisterBenchmark(name.c_str(), run)->Arg(kCache)->Arg(kMemory);
}

// Prints the usual console table, then the target ratios computed from this run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(::isatty(1) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration) time_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto t = [&](const std::string& name, std::int64_t n) {
      const auto it = time_.find(fmt::format("{}/{}", name, n));
      return it == time_.end() ? 0.0 : it->second;
    };
    std::ostream& out = GetOutputStream();  // the stream of the table above, so the order holds
    out << "\nTargets (ratios of this run; x = how many times the other's time):\n"
        << fmt::format("{:<46} {:>8} {:>8}\n", "measure", "ratio", "target");
    auto line = [&out](const std::string& what, double num, double den, double target) {
      if (num <= 0 || den <= 0) return;
      const double ratio = num / den;
      out << fmt::format("{:<46} {:>7.2f}x {:>7.1f}x  {}\n", what, ratio, target, ratio >= target ? "met" : "MISSED");
    };
    for (const Fp8Impl& impl : fp8_impls()) {
      if (std::string_view(impl.name) == "reference" || !impl.available()) continue;
      for (Fp8Format f : kFp8Formats) {
        const std::string fn(traits(f).name), enc = fmt::format("BM_encode_f32_{}_", fn), dec = fmt::format("BM_decode_{}_f32_", fn);
        line(fmt::format("encode f32->{} {} 16Mi vs memcpy", fn, impl.name), t("BM_memcpy", kMemory), t(enc + impl.name, kMemory), 0.8);
        line(fmt::format("encode f32->{} {} 64Ki vs reference", fn, impl.name), t(enc + "reference", kCache), t(enc + impl.name, kCache), 10);
        line(fmt::format("decode {}->f32 {} 16Mi vs memcpy", fn, impl.name), t("BM_memcpy", kMemory), t(dec + impl.name, kMemory), 0.8);
        line(fmt::format("decode {}->f32 {} 64Ki vs reference", fn, impl.name), t(dec + "reference", kCache), t(dec + impl.name, kCache), 10);
      }
    }
  }

 private:
  std::map<std::string, double> time_;
};

void register_all() {
  benchmark::RegisterBenchmark("BM_memcpy", BM_memcpy)->Arg(kCache)->Arg(kMemory);
  for (const Fp8Impl& impl : fp8_impls()) {
    if (!impl.available()) continue;
    for (Fp8Format f : kFp8Formats) {
      register_encode<float>(impl, f);
      register_encode<double>(impl, f);
      register_encode<f16>(impl, f);
      register_encode<bf16>(impl, f);
      register_decode<float>(impl, f);
      register_decode<f16>(impl, f);
      register_decode<bf16>(impl, f);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
