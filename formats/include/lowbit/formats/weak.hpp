// OWQ and QEFT weak-column layouts: a linear layer W (OC x IC) whose k most sensitive input
// columns ("weak columns") stay in fp16 while the rest is quantized group-wise to 3 or 4 bits with
// an asymmetric (or symmetric) min-max quantizer. QEFT stores the weak columns last (a global
// column permutation, OGR); OWQ keeps the original order. docs/formats/qeft-owq.md is the prose
// version of this file: every buffer, bit by bit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/sizes.hpp"

namespace lowbit::qeft {

// QEFT's qweight interleaves 4 output rows and blocks of 64 input columns (pack_intweight's
// interleave=4, kstride=64); oweight_interleaved pairs rows r and r+4 of every 8.
inline constexpr std::size_t kRowInterleave = 4;
inline constexpr std::size_t kColumnBlock = 64;
inline constexpr std::size_t kChunk = 32;  // columns whose codes share 8 int16 (t, t+8, t+16, t+24)

}  // namespace lowbit::qeft

// The layout, tuning and shape rules both layouts share.
namespace lowbit::weak {

enum class Layout : std::uint8_t { qeft, owq };

constexpr std::optional<Layout> parse_layout(std::string_view s) {
  if (s == "qeft") return Layout::qeft;
  if (s == "owq") return Layout::owq;
  return std::nullopt;
}
constexpr std::string_view name(Layout l) { return l == Layout::qeft ? "qeft" : "owq"; }

// How a group's (scale, zero) are chosen: the repos' `--tuning minmax|mse`.
enum class Tuning : std::uint8_t {
  minmax,  // range [min(x, 0), max(x, 0)], an all-zero group gets [-1, 1]
  mse,     // `grid` candidate clip ranges x every zero point, loss mean(|x - q(x)|^2.4), first strict minimum
};

constexpr std::optional<Tuning> parse_tuning(std::string_view s) {
  if (s == "minmax") return Tuning::minmax;
  if (s == "mse") return Tuning::mse;
  return std::nullopt;
}

struct QuantOptions {
  int bits = 4;        // 4, or 3 (OWQ only)
  int group = 128;     // input channels per group; 0 = one group per output row (per channel)
  bool sym = false;    // symmetric: codes [-2^(b-1), 2^(b-1) - 1] stored with the zero point 2^(b-1)
  Tuning tuning = Tuning::mse;
  int grid = 1;        // mse: number of clip ranges (QEFT's RTN path 1, its GPTQ path 40, OWQ 100)

  constexpr int maxq() const { return sym ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }
  constexpr int minq() const { return sym ? -(1 << (bits - 1)) : 0; }
};

// The grid each reference path uses when the user gives none: QEFT's nearest-rounding path
// (grouped) 1, its per-channel path 100 (find_params' default), OWQ 100.
constexpr int default_grid(Layout l, int group) { return l == Layout::qeft && group != 0 ? 1 : 100; }

// The loss exponent of the mse search: the repos write 2.4, which torch's vectorized pow takes
// as the fp32 value 2.4f.
inline constexpr float kLossPower = 2.4f;
// torch.tensor(1e-8): the smallest scale the mse search uses.
inline constexpr float kMinScale = 1e-8f;
// torch.zeros_like(xmin) + 1e10: the initial best loss.
inline constexpr float kInitialLoss = 1e10f;

// Checks of a layer's shape, or the reason it cannot be stored in `l` (empty = fine).
//   QEFT: bits 4; OC % 8 == 0 (oweight_interleaved); IC % 64 == 0 (qweight); group 0 or a
//         multiple of 32 dividing IC; k < IC.
//   OWQ:  bits 3 or 4; OC % 2 == 0 (zero pairs); IC % 32 == 0 (qweight words); group 0; k < IC.
constexpr std::string_view shape_error(Layout l, std::size_t oc, std::size_t ic, std::size_t k,
                                            const QuantOptions& o) {
  if (oc == 0 || ic == 0) return "the weight is empty";
  if (k >= ic) return "k must be smaller than the number of input channels";
  if (!checked_mul(oc, ic)) return "OC x IC overflows size_t";
  if (o.grid < 1) return "the mse grid must be at least 1";
  if (l == Layout::qeft) {
    if (o.bits != 4) return "QEFT is 4-bit only";
    if (oc % 8) return "QEFT needs OC to be a multiple of 8";
    if (ic % qeft::kColumnBlock) return "QEFT needs IC to be a multiple of 64";
    if (o.group != 0 && (o.group < 0 || o.group % 32 || ic % static_cast<std::size_t>(o.group)))
      return "QEFT's group must be 0 (per channel) or a multiple of 32 that divides IC";
  } else {
    if (o.bits != 3 && o.bits != 4) return "OWQ stores 3 or 4 bits";
    if (oc % 2) return "OWQ needs an even OC (two zero points per byte)";
    if (ic % 32) return "OWQ needs IC to be a multiple of 32";
    if (o.group != 0) return "OWQ quantizes per channel: its group must be 0";
  }
  return {};
}

// Columns per group as stored: the group size, or IC for per-channel.
constexpr std::size_t group_columns(std::size_t ic, int group) { return group == 0 ? ic : static_cast<std::size_t>(group); }
constexpr std::size_t groups(std::size_t ic, int group) { return ic / group_columns(ic, group); }

}  // namespace lowbit::weak

namespace lowbit::qeft {

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

// A view of a layer's packed QEFT buffers (all little-endian, row-major, as in the checkpoint).
struct Matrix {
  std::size_t oc = 0, ic = 0, k = 0;  // OC % 8 == 0, IC % 64 == 0, k < IC
  std::size_t group = 0;              // columns per group (IC for per channel), a multiple of 32
  const std::int16_t* qweight = nullptr;        // OC/4 x IC
  const std::uint16_t* scales = nullptr;        // IC/group x OC, binary16 bits
  const std::uint16_t* scaled_zeros = nullptr;  // IC/group x OC, binary16 bits
  const std::uint16_t* oweight = nullptr;       // OC x k, binary16 bits (may be null when k == 0)
};

// y: OC floats; x: IC floats.
using MatvecFn = void (*)(const Matrix* w, const float* x, float* y);

struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  MatvecFn matvec = nullptr;
};

}  // namespace lowbit::qeft

namespace lowbit::owq {

// Words of OWQ's qweight per output channel: IC/32 * bits.
constexpr std::size_t words(std::size_t ic, int bits) { return ic / 32 * static_cast<std::size_t>(bits); }

}  // namespace lowbit::owq
