// CPU features a kernel may need, as bits: the last column of the kernel list (optimized/include/lowbit/kernels.inc).
// detected() asks the CPU once (CPUID on x86-64; NEON is baseline on arm64).
#pragma once
#include <cstdint>
#include <string>

namespace lowbit::cpu {

enum Feature : std::uint32_t {
  none = 0,
  avx2 = 1u << 0,
  fma = 1u << 1,
  f16c = 1u << 2,
  avx512f = 1u << 3,
  avx512bw = 1u << 4,
  avx512vl = 1u << 5,
  avx512dq = 1u << 6,
  avx512vbmi = 1u << 7,
  avx512vnni = 1u << 8,
  avx512bf16 = 1u << 9,
};

// The features of this CPU (and operating system: AVX state enabled), detected once.
std::uint32_t detected();
// True if this CPU has every feature in `needed`.
inline bool supports(std::uint32_t needed) { return (detected() & needed) == needed; }
// "avx2+fma+f16c", or "-" for none.
std::string names(std::uint32_t features);

}  // namespace lowbit::cpu
