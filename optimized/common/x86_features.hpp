// CPU features the x86 kernels need, asked once per call of an available() function. AVX2 and FMA
// through the compiler's __builtin_cpu_supports; F16C from CPUID leaf 1 (ECX bit 29) directly,
// because clang 14 rejects __builtin_cpu_supports("f16c") (GCC accepts it).
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

namespace lowbit::x86 {

inline bool has_avx2() { return __builtin_cpu_supports("avx2"); }
inline bool has_fma() { return __builtin_cpu_supports("fma"); }
inline bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}

}  // namespace lowbit::x86
#endif
