// lowbit-bench's shared pieces: each bench_*.cpp registers its benchmarks and the speed targets
// they are judged by at static-initialisation time; main.cpp runs them and prints the targets as
// ratios of this one run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit::bench {

inline constexpr std::int64_t kCache = 64 << 10, kMemory = 16 << 20;

// "ratio = time(baseline) / time(measured) >= goal", names as Google Benchmark prints them
// (e.g. "BM_memcpy/16777216").
struct Target {
  std::string what, measured, baseline;
  double goal;
};
std::vector<Target>& targets();

// A benchmark's name as Google Benchmark prints it for one argument: "BM_x/65536".
inline std::string at(const std::string& name, std::int64_t arg) { return name + "/" + std::to_string(arg); }

// Normally distributed f32 values, sigma 64, fixed seed.
std::vector<float> normal_floats(std::size_t n);

}  // namespace lowbit::bench
