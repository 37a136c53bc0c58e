// The one kernel signature of the QEFT mixed-precision matvec, shared by the reference and every
// SIMD ISA: y = W x on the packed QEFT buffers (docs/formats/qeft-owq.md, section "matvec").
//
// W[o][j] is the gemv path's effective weight: for j < IC - k the fp16 value
// fma16(code, scales[g][o], scaled_zeros[g][o]) (one rounding to binary16, g = j / group), for
// j >= IC - k the fp16 value oweight[o][j - (IC - k)]. The sum is fp32 in a fixed order, so that
// every implementation gives the same bits:
//   acc[l] = 0 for l = 0..7; for j = l, l + 8, l + 16, ... < IC: acc[l] = fma(W[o][j], x[j], acc[l])
//   y[o]   = ((acc0 + acc4) + (acc2 + acc6)) + ((acc1 + acc5) + (acc3 + acc7))
// (each fma rounds once to fp32; x is in the layout's column order, i.e. already reordered).
#pragma once
#include <cstddef>
#include <cstdint>

namespace lowbit {

// A view of a layer's packed QEFT buffers (all little-endian, row-major, as in the checkpoint).
struct QeftMatrix {
  std::size_t oc = 0, ic = 0, k = 0;  // OC % 8 == 0, IC % 64 == 0, k < IC
  std::size_t group = 0;              // columns per group (IC for per channel), a multiple of 32
  const std::int16_t* qweight = nullptr;        // OC/4 x IC
  const std::uint16_t* scales = nullptr;        // IC/group x OC, binary16 bits
  const std::uint16_t* scaled_zeros = nullptr;  // IC/group x OC, binary16 bits
  const std::uint16_t* oweight = nullptr;       // OC x k, binary16 bits (may be null when k == 0)
};

// y: OC floats; x: IC floats.
using QeftMatvecFn = void (*)(const QeftMatrix* w, const float* x, float* y);

struct QeftImpl {
  const char* name;      // "reference", "avx2", "neon"
  unsigned width;        // fp32 lanes per vector step (1 for scalar code)
  bool (*available)();   // does this CPU run it?
  QeftMatvecFn matvec;
};

}  // namespace lowbit
