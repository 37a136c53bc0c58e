#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <ostream>
#include <random>

#include "bench.hpp"

namespace lowbit::bench {

std::vector<Target>& targets() {
  static std::vector<Target> list;
  return list;
}

std::vector<float> normal_floats(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 64.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

namespace {

void BM_memcpy(benchmark::State& s) {  // f32 elements: the baseline of the memory-bound targets
  const std::size_t n = s.range(0);
  std::vector<float> a = normal_floats(n), b(n);
  for (auto _ : s) {
    std::memcpy(b.data(), a.data(), n * sizeof(float));
    benchmark::DoNotOptimize(b.data());
  }
  s.SetItemsProcessed(s.iterations() * n);
  s.SetBytesProcessed(s.iterations() * n * sizeof(float));
}
BENCHMARK(BM_memcpy)->Arg(kCache)->Arg(kMemory);

// Prints the usual table, then every target computed from this run.
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
    std::ostream& out = GetOutputStream();  // the stream of the table above, so the order holds
    out << "\nTargets (ratio = baseline time / measured time, this run):\n"
        << fmt::format("{:<52} {:>8} {:>8}\n", "measure", "ratio", "target");
    for (const Target& t : targets()) {
      const auto m = time_.find(t.measured), b = time_.find(t.baseline);
      if (m == time_.end() || b == time_.end()) continue;  // filtered out of this run
      const double ratio = b->second / m->second;
      out << fmt::format("{:<52} {:>7.2f}x {:>7.2f}x  {}\n", t.what, ratio, t.goal, ratio >= t.goal ? "met" : "MISSED");
    }
  }

 private:
  std::map<std::string, double> time_;
};

}  // namespace
}  // namespace lowbit::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  lowbit::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
