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
#include <vector>

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

// The column order of a weight: as the layout stores it (QEFT: the weak columns last), or the
// layer's original order. OWQ stores the original order.
enum class Order : std::uint8_t { stored, original };

// An element whose code the reference packers write out of range (they do not clamp, so the
// value spills into its neighbours' bits); lowbit stores the clamped code, 0 or 2^bits - 1.
struct Clamp {
  std::size_t row, col;  // stored order
  double code;           // round_half_even((fp16(Q) + z*s) / s) before the clamp
};

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

// A layer's QEFT buffers, owned: the QuantLinear state dict (little-endian, row-major). Columns
// are in stored order: the k weak columns last, outlieridx[c] the original index of stored
// column IC - k + c.
struct Packed {
  std::size_t oc = 0, ic = 0, k = 0, group = 0;     // group: columns per group (IC for per channel)
  std::vector<std::int16_t> qweight;                // OC/4 x IC: 4-bit codes (kRowInterleave, kColumnBlock)
  std::vector<std::uint16_t> scales, scaled_zeros;  // IC/group x OC, binary16: -scale * zero for the fma
  std::vector<std::uint16_t> oweight;               // OC x k, binary16: the weak columns
  std::vector<std::uint16_t> oweight_interleaved;   // OC/2 x 2k, binary16: rows r and r+4 of every 8 paired
  std::vector<std::int32_t> outlieridx;             // k, ascending original indices

  Matrix view() const {
    return {oc, ic, k, group, qweight.data(), scales.data(), scaled_zeros.data(), oweight.empty() ? nullptr : oweight.data()};
  }
  bool operator==(const Packed&) const = default;
};

// The effective weight a kernel path computes with.
enum class Path : std::uint8_t {
  gemv,  // gemv_4bit_qeft (< 8 tokens): weak columns are oweight
  nowc,  // the 4-bit part alone on every column (gemm_4bit's B operand; weak columns = the zero code)
};

// ---- weak-column selection (OGR) and the reordering of a decoder ---------------------------------

// How the global index (OGR) sums the layers' sensitivities lambda_l.
enum class OgrVariant : std::uint8_t {
  qeft,            // extract_outidx.py: s += lambda_l / mean(lambda_l), the whole vector
  per_layer_topk,  // the paper (commented out in the code): s[t] += lambda_l[t] / mean(lambda_l), t in topk(lambda_l, k)
};

// One pre-norm decoder block (Llama layout; RMSNorm, no biases). d = hidden size, a = heads x
// head_dim, ff = MLP width. Linear weights are [out x in], row-major.
struct DecoderBlock {
  std::vector<float> attn_norm;  // [d]
  std::vector<float> q, k, v;    // [a x d]
  std::vector<float> o;          // [d x a]
  std::vector<float> mlp_norm;   // [d]
  std::vector<float> gate, up;   // [ff x d]
  std::vector<float> down;       // [d x ff]
  // o_proj's run-time input gather: its input j is the attention output o_gather[j] (QEFT's
  // index_select(x, -1, reorder_ids)); empty = identity.
  std::vector<std::int32_t> o_gather;
};

struct DecoderModel {
  std::size_t vocab = 0, d = 0, heads = 1, a = 0, ff = 0;
  std::vector<float> embedding;  // [vocab x d]
  std::vector<DecoderBlock> blocks;
  std::vector<float> final_norm;  // [d]
  std::vector<float> head;        // [vocab x d] (a tied head holds a copy of the embedding)
};

// The weak columns of a model; every index list ascending and distinct.
struct WeakPlan {
  std::vector<std::int32_t> global;                  // the OGR index, < d
  std::vector<std::vector<std::int32_t>> o_weak;     // per block: o_proj's own weak columns, < a
  std::vector<std::vector<std::int32_t>> down_weak;  // per block: down_proj's own weak columns, < ff
};

}  // namespace lowbit::qeft

namespace lowbit::owq {

// Words of OWQ's qweight per output channel: IC/32 * bits.
constexpr std::size_t words(std::size_t ic, int bits) { return ic / 32 * static_cast<std::size_t>(bits); }

// A layer's OWQ buffers, owned: the QuantLinear state dict, columns in the original order.
struct Packed {
  std::size_t oc = 0, ic = 0, k = 0;
  int bits = 4;
  std::vector<std::int32_t> qweight;     // IC/32*bits x OC: codes packed along IC, LSB first
  std::vector<std::uint16_t> scales;     // OC x 1, binary16
  std::vector<std::uint8_t> zeros;       // OC/2 x 1: z[2p] | z[2p+1] << 4
  std::vector<std::uint16_t> oweight;    // k x OC, binary16: the weak columns
  std::vector<std::int32_t> outlieridx;  // k, ascending original indices

  bool operator==(const Packed&) const = default;
};

// The effective weight a kernel path computes with.
enum class Path : std::uint8_t {
  fp16,  // matquant{3,4}dequant_faster (fp16), weak columns overwritten by oweight (golden deq)
  fp32,  // matquant{3,4}dequant (fp32 kernel, main.py's default), weak columns float(oweight) (deq_fp32k)
  nowc,  // the fp16 kernel before the overwrite (weak columns = the zero code)
};

}  // namespace lowbit::owq
