// Force-included into lowbit_lib by the libFuzzer build (CMakeLists.txt) only when the compiler
// rejects __builtin_cpu_supports("f16c") (clang 14 knows no "f16c" there; GCC does), which the AVX2
// kernels' available() ask: the same answer from CPUID leaf 1 (ECX bit 29), other features as before.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

#include <string_view>

inline bool lowbit_fuzz_cpu_supports(std::string_view feature) {
  if (feature == "f16c") {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
  }
  if (feature == "avx2") return __builtin_cpu_supports("avx2");
  if (feature == "fma") return __builtin_cpu_supports("fma");
  if (feature == "avx512f") return __builtin_cpu_supports("avx512f");
  if (feature == "avx512bw") return __builtin_cpu_supports("avx512bw");
  return false;  // a feature this list lacks: its kernel is not run (the reference is)
}
#define __builtin_cpu_supports(feature) lowbit_fuzz_cpu_supports(feature)
#endif
