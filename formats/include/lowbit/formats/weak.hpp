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

namespace lowbit {

enum class WeakLayout : std::uint8_t { qeft, owq };

constexpr std::optional<WeakLayout> parse_weak_layout(std::string_view s) {
  if (s == "qeft") return WeakLayout::qeft;
  if (s == "owq") return WeakLayout::owq;
  return std::nullopt;
}
constexpr std::string_view name(WeakLayout l) { return l == WeakLayout::qeft ? "qeft" : "owq"; }

// How a group's (scale, zero) are chosen: the repos' `--tuning minmax|mse`.
enum class WeakTuning : std::uint8_t {
  minmax,  // range [min(x, 0), max(x, 0)], an all-zero group gets [-1, 1]
  mse,     // `grid` candidate clip ranges x every zero point, loss mean(|x - q(x)|^2.4), first strict minimum
};

constexpr std::optional<WeakTuning> parse_weak_tuning(std::string_view s) {
  if (s == "minmax") return WeakTuning::minmax;
  if (s == "mse") return WeakTuning::mse;
  return std::nullopt;
}

struct WeakQuantOptions {
  int bits = 4;        // 4, or 3 (OWQ only)
  int group = 128;     // input channels per group; 0 = one group per output row (per channel)
  bool sym = false;    // symmetric: codes [-2^(b-1), 2^(b-1) - 1] stored with the zero point 2^(b-1)
  WeakTuning tuning = WeakTuning::mse;
  int grid = 1;        // mse: number of clip ranges (QEFT's RTN path 1, its GPTQ path 40, OWQ 100)

  constexpr int maxq() const { return sym ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }
  constexpr int minq() const { return sym ? -(1 << (bits - 1)) : 0; }
};

// The grid each reference path uses when the user gives none: QEFT's nearest-rounding path
// (grouped) 1, its per-channel path 100 (find_params' default), OWQ 100.
constexpr int default_weak_grid(WeakLayout l, int group) { return l == WeakLayout::qeft && group != 0 ? 1 : 100; }

// The loss exponent of the mse search: the repos write 2.4, which torch's vectorized pow takes
// as the fp32 value 2.4f.
inline constexpr float kWeakLossPower = 2.4f;
// torch.tensor(1e-8): the smallest scale the mse search uses.
inline constexpr float kWeakMinScale = 1e-8f;
// torch.zeros_like(xmin) + 1e10: the initial best loss.
inline constexpr float kWeakInitialLoss = 1e10f;

// QEFT's qweight interleaves 4 output rows and blocks of 64 input columns (pack_intweight's
// interleave=4, kstride=64); oweight_interleaved pairs rows r and r+4 of every 8.
inline constexpr std::size_t kQeftRowInterleave = 4;
inline constexpr std::size_t kQeftColumnBlock = 64;
inline constexpr std::size_t kQeftChunk = 32;  // columns whose codes share 8 int16 (t, t+8, t+16, t+24)

// Checks of a layer's shape, or the reason it cannot be stored in `l` (empty = fine).
//   QEFT: bits 4; OC % 8 == 0 (oweight_interleaved); IC % 64 == 0 (qweight); group 0 or a
//         multiple of 32 dividing IC; k < IC.
//   OWQ:  bits 3 or 4; OC % 2 == 0 (zero pairs); IC % 32 == 0 (qweight words); group 0; k < IC.
constexpr std::string_view weak_shape_error(WeakLayout l, std::size_t oc, std::size_t ic, std::size_t k,
                                            const WeakQuantOptions& o) {
  if (oc == 0 || ic == 0) return "the weight is empty";
  if (k >= ic) return "k must be smaller than the number of input channels";
  if (!checked_mul(oc, ic)) return "OC x IC overflows size_t";
  if (o.grid < 1) return "the mse grid must be at least 1";
  if (l == WeakLayout::qeft) {
    if (o.bits != 4) return "QEFT is 4-bit only";
    if (oc % 8) return "QEFT needs OC to be a multiple of 8";
    if (ic % kQeftColumnBlock) return "QEFT needs IC to be a multiple of 64";
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
constexpr std::size_t weak_group_columns(std::size_t ic, int group) { return group == 0 ? ic : static_cast<std::size_t>(group); }
constexpr std::size_t weak_groups(std::size_t ic, int group) { return ic / weak_group_columns(ic, group); }

// Words of OWQ's qweight per output channel: IC/32 * bits.
constexpr std::size_t owq_words(std::size_t ic, int bits) { return ic / 32 * static_cast<std::size_t>(bits); }

}  // namespace lowbit
