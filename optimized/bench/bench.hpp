// lowbit-bench's shared pieces: each bench_*.cpp registers its benchmarks and the speed targets
// they are judged by at static-initialisation time; main.cpp runs them and prints the targets as
// ratios of this one run. Benchmarks are named by format, direction and implementation: a kernel
// of the list by its ISA (BM_encode_f32_e4m3_avx2/65536), the public call as users make it by
// "api" (BM_encode_f32_e4m3_api/65536), which runs kernels::best().
#pragma once
#include <benchmark/benchmark.h>

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

// A stream benchmark at kCache and kMemory elements: make(n) returns the step to time, a callable
// that owns its buffers. Items are elements, bytes `bytes_per_element` each.
template <class Make> void stream(const std::string& name, std::size_t bytes_per_element, Make make) {
  benchmark::RegisterBenchmark(name.c_str(), [make, bytes_per_element](benchmark::State& s) {
    const auto n = static_cast<std::size_t>(s.range(0));
    auto step = make(n);
    for (auto _ : s) {
      step();
      benchmark::ClobberMemory();
    }
    s.SetItemsProcessed(s.iterations() * s.range(0));
    s.SetBytesProcessed(s.iterations() * s.range(0) * static_cast<std::int64_t>(bytes_per_element));
  })->Arg(kCache)->Arg(kMemory);
}

// The target that keeps a public call's overhead visible: the call as users make it (`api`, its
// name with the ISA replaced by "api") against the kernel it runs (`kernel`), in cache.
inline void api_target(const std::string& what, const std::string& api, const std::string& kernel, std::int64_t arg = kCache) {
  targets().push_back({what + " public API vs its kernel", at(api, arg), at(kernel, arg), 0.9});
}

// A family's public encode and decode as stream benchmarks (name("api"), made as `stream` makes
// them), and their targets against the kernels they run (name(best), best: kernels::best's ISA).
template <class EncodeName, class DecodeName, class MakeEncode, class MakeDecode>
void api_codec(const std::string& what, EncodeName encode_name, DecodeName decode_name, const std::string& best, std::size_t bytes_per_element,
               MakeEncode encode, MakeDecode decode) {
  stream(encode_name("api"), bytes_per_element, encode);
  stream(decode_name("api"), bytes_per_element, decode);
  api_target(what + " encode", encode_name("api"), encode_name(best));
  api_target(what + " decode", decode_name("api"), decode_name(best));
}

// A SIMD kernel's stream targets, f32 <-> `format`: encode and decode >= 0.8x memcpy at kMemory and
// >= 10x the reference at kCache. encode_name(isa) / decode_name(isa): the benchmarks' names.
template <class EncodeName, class DecodeName>
void codec_targets(const std::string& format, const std::string& isa, EncodeName encode_name, DecodeName decode_name) {
  const std::string enc = "encode f32->" + format + " " + isa, dec = "decode " + format + "->f32 " + isa;
  targets().push_back({enc + " 16Mi vs memcpy", at(encode_name(isa), kMemory), at("BM_memcpy", kMemory), 0.8});
  targets().push_back({enc + " 64Ki vs reference", at(encode_name(isa), kCache), at(encode_name("reference"), kCache), 10});
  targets().push_back({dec + " 16Mi vs memcpy", at(decode_name(isa), kMemory), at("BM_memcpy", kMemory), 0.8});
  targets().push_back({dec + " 64Ki vs reference", at(decode_name(isa), kCache), at(decode_name("reference"), kCache), 10});
}

// Normally distributed f32 values, sigma 64, fixed seed.
std::vector<float> normal_floats(std::size_t n);

}  // namespace lowbit::bench
