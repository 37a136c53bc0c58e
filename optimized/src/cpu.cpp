#include "lowbit/cpu.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lowbit::cpu {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// XCR0: which register states the operating system saves (AVX needs YMM, AVX-512 also ZMM and k).
std::uint64_t xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}

std::uint32_t detect() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return none;
  const bool osxsave = c & bit_OSXSAVE;
  const std::uint64_t xcr = osxsave ? xcr0() : 0;
  const bool ymm = (xcr & 0x6) == 0x6, zmm = (xcr & 0xE6) == 0xE6;
  if (!ymm || !(c & bit_AVX)) return none;
  std::uint32_t f = none;
  if (c & bit_FMA) f |= fma;
  if (c & bit_F16C) f |= f16c;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const unsigned sub_leaves = a;
  if (b & bit_AVX2) f |= avx2;
  if (zmm && (b & bit_AVX512F)) {
    f |= avx512f;
    if (b & bit_AVX512BW) f |= avx512bw;
    if (b & bit_AVX512VL) f |= avx512vl;
    if (b & bit_AVX512DQ) f |= avx512dq;
    if (c & bit_AVX512VBMI) f |= avx512vbmi;
    if (c & bit_AVX512VNNI) f |= avx512vnni;
    if (sub_leaves >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      if (a & bit_AVX512BF16) f |= avx512bf16;
    }
  }
  return f;
}
#else
std::uint32_t detect() { return none; }  // arm64: NEON is baseline
#endif

}  // namespace

std::uint32_t detected() {
  static const std::uint32_t features = detect();
  return features;
}

std::string names(std::uint32_t features) {
  static constexpr struct {
    Feature f;
    const char* name;
  } kNames[] = {{avx2, "avx2"},         {fma, "fma"},           {f16c, "f16c"},           {avx512f, "avx512f"},
                {avx512bw, "avx512bw"}, {avx512vl, "avx512vl"}, {avx512dq, "avx512dq"},   {avx512vbmi, "avx512vbmi"},
                {avx512vnni, "avx512vnni"}, {avx512bf16, "avx512bf16"}};
  std::string s;
  for (const auto& n : kNames) {
    if (!(features & n.f)) continue;
    if (!s.empty()) s += '+';
    s += n.name;
  }
  return s.empty() ? "-" : s;
}

}  // namespace lowbit::cpu
