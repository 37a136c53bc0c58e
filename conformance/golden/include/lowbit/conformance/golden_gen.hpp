// Golden test-vector generation and verification (Berkeley TestFloat's testfloat_gen /
// testfloat_ver): structured boundary cases crossed with seeded random ones, written as .npy files
// plus manifest.json; a vendor runs its codec on the inputs and `verify` compares its outputs.
//
// FP8 directory (one format x profile x rounding):
//   inputs.npy          <u4: the f32 inputs as bit patterns (numpy: .view('<f4'))
//   expected.npy        |u1: the FP8 codes of the reference (lowbit/reference/fp8.hpp)
//   classes.npy         |u1: each case's class, an index into manifest "tests"[0]["class_names"]
//   decode_inputs.npy   |u1: the 256 codes 0x00 .. 0xFF
//   decode_expected.npy <u4: their f32 decodings as bit patterns
//   decode_classes.npy  |u1: the class of each code ("tests"[1]["class_names"])
//   manifest.json       format, profile, rounding, seed, level, lowbit version, counts, and the
//                       SHA-256 of every file
// With rounding sr the random word of element i is Philox-4x32-10(seed) at counter i (the position
// in inputs.npy), as lowbit::fp8::encode with fp8::Options::seed = seed over the whole array.
//
// The other sets are described beside their generators below: GSE, NF4/FP4 (with double
// quantization: the nested codes, nested absmax, offset, reconstructed absmax and DQ decode), MX
// (element conversions with the scale 2^0 and their decoding, blocks: codes, E8M0 scales, decode), NVFP4
// (tensors: codes, E4M3 scales, decode).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/golden_io.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/formats/nf4.hpp"
#include "lowbit/formats/nvfp4.hpp"

namespace lowbit::conformance {

// Classes of the FP8 encode cases (the u1 values of classes.npy), in this order.
enum class Fp8CaseClass : std::uint8_t { exact, tie, near_tie, overflow, underflow, special, f32_subnormal, random };
inline constexpr std::string_view kFp8CaseClassNames[] = {"exact",     "tie",     "near-tie",      "overflow",
                                                          "underflow", "special", "f32-subnormal", "random"};
// Classes of the decode cases.
inline constexpr std::string_view kFp8DecodeClassNames[] = {"zero", "subnormal", "normal", "max-finite", "inf", "nan"};

struct Fp8Cases {
  std::vector<std::uint32_t> inputs;  // f32 bit patterns
  std::vector<std::uint8_t> classes;  // Fp8CaseClass
};

// Boundary: for every finite FP8 magnitude (every exponent and the subnormal range) the exact value,
// the midpoint to the next one (a tie) and one f32 ulp either side of it, both signs; the overflow
// region (around the midpoint above max finite, up to FLT_MAX), the underflow region (around half the
// smallest subnormal), +-0, +-Inf, NaNs (quiet, signalling, payloads, both signs), f32 subnormals.
// Quick: boundary, then `random` seeded (SplitMix64) patterns, half uniform over all 32 bits and
// half with exponents near the format's range.
Fp8Cases fp8_gen_cases(fp8::Format f, Level level, std::uint64_t seed, std::size_t random);

struct Fp8GenOptions : GenCommon {
  fp8::Format format = fp8::Format::e4m3;
  std::string profile;  // empty or ml_dtypes: the format's default profile (fp8::profile_for)
  Rounding rounding = Rounding::rne;
};

// Writes the directory (created if missing); throws std::runtime_error on bad options or I/O errors.
GenSummary gen_fp8(const Fp8GenOptions& o, const std::string& dir);

// GSE directory (one gse::Format x rounding): a flat stream of groups, the last one short (a tail).
//   inputs.npy          <u4: the f32 inputs as bit patterns
//   expected_codes.npy  |i1: the element codes of the reference (lowbit/reference/gse.hpp)
//   expected_exps.npy   |u1: the exponent field of each group
//   classes.npy         |u1: each element's class (its group's), names in "tests"[0]["class_names"]
//   exp_inputs.npy      <u4: each group's largest |x| (f32 bits; NaN if the group has one), the
//                            operand shown for exponent mismatches
//   exp_classes.npy     |u1: each group's class
//   decode_expected.npy <u4: the f32 decoding of the expected codes and exponents
//   manifest.json       as for FP8, plus the gse::Format parameters
// sr: Philox-4x32-10(seed) at counter = element index, as lowbit::gse::encode with index0 = 0.
enum class GseCaseClass : std::uint8_t { exact, tie, near_tie, mantissa_overflow, exp_range, special, random, tail };
inline constexpr std::string_view kGseCaseClassNames[] = {"exact",     "tie",     "near-tie", "mantissa-overflow",
                                                          "exp-range", "special", "random",   "tail"};

struct GseCases {
  std::vector<std::uint32_t> inputs;  // f32 bit patterns, format.group per group, the last group short
  std::vector<std::uint8_t> classes;  // per element, GseCaseClass
};

// Boundary: for every shared exponent of the field (and one beyond each end, within f32's range) a
// group of exact multiples of the step with the largest mantissa, a group of ties (k + 1/2 steps), a
// group one f32 ulp either side of ties, and groups whose maximum rounds past the largest mantissa;
// groups with NaN, Inf, zeros, -0 and f32 subnormals; a short last group of ties (the tail).
// Quick inserts `random` seeded elements (rounded up to whole groups) before the tail: random
// exponents around the field's range and random mantissas.
GseCases gse_gen_cases(const gse::Format& f, Level level, std::uint64_t seed, std::size_t random);

struct GseGenOptions : GenCommon {
  gse::Format format;
  Rounding rounding = Rounding::rne;
};
GenSummary gen_gse(const GseGenOptions& o, const std::string& dir);
// The gse::Format parameters as the manifests record them.
nlohmann::json gse_json(const gse::Format& f);

// NF4 / FP4 directory (bitsandbytes blockwise 4-bit, one table x profile x block size): inputs.npy <u4;
// expected_packed.npy |u1 (two codes a byte, element 2i in the high nibble); expected_codes.npy |u1
// (one code per element, unpacked); expected_absmax.npy <u4 (f32 bits, one per block); packed_inputs.npy
// <u4 (input of element 2i); classes.npy / packed_classes.npy / absmax_classes.npy |u1; absmax_inputs.npy
// <u4 (largest |x| per block); decode_expected.npy <u4 (dequantized f32 bits).
// With double_quant (QLoRA, the profile's nested quantizer, offset = torch's fp32 mean of absmax, the
// map bnb_dynamic_map(), nested blocks of nf4::kNestedBlock absmax values), additionally:
//   expected_qabsmax.npy       |u1: the 8-bit code of each absmax (tested with expected_absmax as inputs)
//   expected_nested_absmax.npy <u4: f32 absmax of (absmax - offset) per nested block; nested_inputs.npy
//                              <u4 its largest |absmax - offset|; nested_classes.npy |u1 (full, tail)
//   expected_offset.npy        <u4: [offset]; offset_inputs.npy <u4 [number of absmax values]
//   expected_dq_absmax.npy     <u4: the reconstructed absmax, fl(fl(map[q] * nested) + offset)
//   dq_decode_expected.npy     <u4: the dequantization with the reconstructed absmax
//   dq_map.npy                 <u4: the 256-entry map (a checkpoint's nested_quant_map), not a test
// The DQ set leaves out the NaN/Inf blocks and the scales beyond 2^+-20 of the plain set: one NaN or
// Inf absmax, or a mean that overflows, would make every reconstructed absmax NaN.
enum class Nf4CaseClass : std::uint8_t { exact, tie, near_tie, special, random, tail };
inline constexpr std::string_view kNf4CaseClassNames[] = {"exact", "tie", "near-tie", "special", "random", "tail"};

struct Nf4GenOptions : GenCommon {
  nf4::Table table = nf4::Table::nf4;
  std::string profile = "lowbit";
  int block = 64;
  bool double_quant = false;
};
// Boundary: per absmax scale (powers of two across f32's range, 1, and odd values) a block of exact
// table values, one of midpoints between neighbouring table values (ties) and one a ulp either side;
// NaN / Inf / zero / -0 blocks; a short last block (the tail). Quick adds random blocks before it.
Fp8Cases nf4_gen_cases(const Nf4GenOptions& o);  // classes: Nf4CaseClass
GenSummary gen_nf4(const Nf4GenOptions& o, const std::string& dir);
// The same set for given inputs (e.g. a peer's, to cross-check the generator); classes: Nf4CaseClass.
GenSummary gen_nf4(const Nf4GenOptions& o, const Fp8Cases& cases, const std::string& dir);

// MX directory (one mx::Format x rounding, docs/formats/mx.md; rounding names as microxcaling's:
// nearest = rna, even = rne, floor = rtz, sr). Codes are one per byte as the reference stores them:
// FP6/FP4 in the low bits with the sign at bit 5 / bit 3, MXINT8 two's complement (|i1).
//   Element conversions with the scale 2^0 (minifloat formats; MXINT8's elements are GSE codes):
//   elem_inputs.npy <u4, elem_expected.npy |u1, elem_classes.npy |u1 (kFp8CaseClassNames: every
//   magnitude, ties, near-ties, saturation above max normal, underflow, +-0, f32 subnormals; NaN and
//   Inf never reach an element, they make a block's scale NaN); sr: Philox-4x32-10(seed) at counter =
//   index in elem_inputs.
//   elem_decode_inputs.npy |u1 (every code an encoder writes and -0), elem_decode_expected.npy <u4,
//   elem_decode_classes.npy |u1 (kFp8DecodeClassNames).
//   Blocks of mx::kBlock, the last one short: inputs.npy <u4, expected_codes.npy |u1 (|i1 for mxint8),
//   classes.npy |u1 (kMxCaseClassNames, per element: its block's), expected_scales.npy |u1 (E8M0, 0xFF
//   = NaN), scale_inputs.npy <u4 (largest |x| per block, NaN if the block holds NaN or Inf),
//   scale_classes.npy |u1, decode_expected.npy <u4; sr: counter = index in inputs.
enum class MxCaseClass : std::uint8_t { exact, tie, near_tie, overflow, scale_min, special, random, tail };
inline constexpr std::string_view kMxCaseClassNames[] = {"exact",     "tie",     "near-tie", "overflow",
                                                         "scale-min", "special", "random",   "tail"};

struct MxGenOptions : GenCommon {
  mx::Format format = mx::Format::fp8_e4m3;
  Rounding rounding = Rounding::rna;  // microxcaling's default, 'nearest'
};
// Element cases (classes Fp8CaseClass), as fp8_gen_cases over the element format; minifloats only.
Fp8Cases mx_element_cases(mx::Format f, Level level, std::uint64_t seed, std::size_t random);
// Block cases (classes MxCaseClass). Boundary: for every scale X the encoder writes (-127 .. 127 - emax)
// a block led by max normal x 2^X (so that the block's scale is X) of exact element values, one of
// ties between neighbouring values, one a ulp either side of ties, and four whose leader rounds past
// max normal (saturation); blocks whose scale is clamped at 2^-127 (scale-min); zero, -0, NaN and
// +-Inf blocks; a short last block of ties (tail). Quick inserts `random` elements (whole blocks)
// before the tail.
Fp8Cases mx_block_cases(mx::Format f, Level level, std::uint64_t seed, std::size_t random);
GenSummary gen_mx(const MxGenOptions& o, const std::string& dir);
// nearest, even, floor or sr (rna, rne, rtz, sr).
std::string_view mx_rounding_name(Rounding r);

// NVFP4 directory (docs/formats/nvfp4.md; one blocking x scale layout x rounding, rne or sr): T tensors, each
// encoded by the reference on its own (its own amax), every array the concatenation, tensor by tensor, of the
// flattened row-major per-tensor arrays.
//   tensors.npy          <u4 [T, 2]: rows and cols of each tensor
//   inputs.npy           <u4: the f32 inputs as bit patterns
//   classes.npy          |u1: each element's class (its tensor's), names in kNvfp4CaseClassNames
//   expected_codes.npy   |u1: E2M1 codes, one a byte (sign at bit 3)
//   expected_scales.npy  |u1: E4M3FN scales in the set's layout, scale_count(rows, cols, layout) per tensor (the
//                        swizzled padding 0); scale_inputs.npy <u4 each one's block (2-D: tile) amax, NaN all over
//                        a tensor with a NaN, 0 for padding; scale_classes.npy |u1
//   amax.npy             <u4: each tensor's amax (f32 bits), which encode scales by and decode takes; not a test
//   decode_expected.npy  <u4: the f32 decoding of the expected codes and scales with that amax
// sr: tensor t takes Philox-4x32-10(seed) words at counters W_t .., W_t the words of the tensors before it.
enum class Nvfp4CaseClass : std::uint8_t { docs, special, layout, ties, tails, random };
inline constexpr std::string_view kNvfp4CaseClassNames[] = {"docs", "special", "layout", "ties", "tails", "random"};

struct Nvfp4GenOptions : GenCommon {
  nvfp4::Blocking blocking = nvfp4::Blocking::d1;
  nvfp4::ScaleLayout layout = nvfp4::ScaleLayout::linear;
  Rounding rounding = Rounding::rne;
};
struct Nvfp4GenTensor {
  std::size_t rows, cols;
  std::vector<float> x;
  Nvfp4CaseClass cls;
};
// Boundary: the fixed vectors of docs/formats/nvfp4.md (the worked example and the sr vector: docs; NaN, Inf,
// zero, an underflowing block scale, FLT_MAX: special; the 130 x 80 and 17 x 20 layouts: layout), one tensor of
// every E2M1 value, tie and near-tie at every block scale 2^-9 .. 2^8 (ties), and tensors of 1 x 1, 1 x 15, 1 x 17,
// 3 x 33, 17 x 47, 20 x 20 and 33 x 100 (tails). Quick adds seeded random tensors of 1..40 x 1..80 until `random`
// elements.
std::vector<Nvfp4GenTensor> nvfp4_gen_tensors(const Nvfp4GenOptions& o);
GenSummary gen_nvfp4(const Nvfp4GenOptions& o, const std::string& dir);

struct ClassCount {
  std::uint64_t tests = 0, errors = 0;
};

// What verify's tolerance mode (VerifyOptions::tolerance) used and saw on one test.
struct ToleranceReport {
  std::string test, array;          // the test and its bound array
  std::uint64_t inexact = 0;        // outputs accepted by the bound but not bit-equal
  double max_bound = 0;             // the largest finite bound
  double worst_ratio = 0;           // max |got - expected| / bound (inf: an error under a zero bound)
  double worst_error = 0, worst_bound = 0;
  std::uint64_t worst_index = 0;    // element of the worst ratio
};

// One mismatch as verify reports it: raw bit patterns, shown in hex with their decimal value.
struct Mismatch {
  std::string test, cls;                           // the test, the case's class
  std::uint64_t index = 0;                         // the element's index in the test's arrays
  std::uint64_t input = 0, got = 0, expected = 0;  // bit patterns
  std::string input_array, expected_array;         // the arrays whose dtype and meaning they have
  std::string input_descr, output_descr;           // their dtypes ("<u4", "|u1", ...)
  std::uint64_t distance = 0;                      // |ordinal(got) - ordinal(expected)| in the test's order
  std::string note;                                // tolerance mode: "|got - expected| = 3e-05 > bound 1e-05"
};

struct VerifyResult {
  std::string kind, format, profile, rounding;  // kind: "fp8" or "gse"; profile empty for gse
  std::uint64_t tests = 0, errors = 0;
  std::vector<Mismatch> examples;                    // per class, its first max_errors mismatches
  std::map<std::string, ClassCount> classes;         // "encode tie", "decode nan", ...
  std::map<std::uint64_t, std::uint64_t> distance;   // bin of code_distance(got, expected) -> mismatches
  std::string distance_unit;  // per compared test, e.g. "encode: codes; decode: f32 ulps"
  std::vector<ToleranceReport> tolerance;            // tolerance mode only

  bool passed() const { return tests > 0 && errors == 0; }
};

// Compares `actual` — one .npy (compared with the first golden output of its dtype and size), or a directory holding files
// named as the golden expected*.npy (each one present is compared; at least one must be) — with the
// golden directory, whose files are first checked against the manifest's SHA-256. An actual that
// matches no golden output is an error naming every output's dtype and size. max_errors: the examples
// kept per class. Distances: FP8 codes and f32 bits in their sign-magnitude order, GSE codes as
// integers, exponent fields as unsigned.
VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, std::size_t max_errors);
// verify_golden of an FP8 directory only.
VerifyResult verify_fp8(const std::string& golden_dir, const std::string& actual, std::size_t max_errors);

// The distance between codes a and b of `width_bytes` in `order` (one of kCodeOrders): how many steps
// apart they are in it (docs/conformance.md, "distance"), exact up to 2^64 - 1. sign-magnitude: -0 and
// +0 are one position, so +1 and -1 (ulps or codes) are 2 apart; twos-complement: as signed integers;
// unsigned: as unsigned integers; -6 / -4: FP6 / FP4 codes one a byte, the sign at bit 5 / 3.
std::uint64_t code_distance(std::string_view order, std::uint64_t a, std::uint64_t b, unsigned width_bytes);

// The decimal value of an element for the report, beside its hex: the format's own reading of an array
// ("448" for an FP8 code), or nullopt for the reading of its dtype (value_text).
using ValueReader = std::function<std::optional<std::string>(std::string_view array, std::uint64_t bits)>;
// The decimal value of `bits` of `array` (dtype `descr`): the reader's, else f32 for <u4/<f4, f16 for
// <u2/<f2, f64 for <f8, the integer for the integer dtypes.
std::string value_text(std::string_view array, std::string_view descr, std::uint64_t bits, const ValueReader& reader = {});

// TestFloat-style text: errors per class, a few examples of each class with errors (index, hex and
// decimal operands), the distance histogram, then "N tests, no errors found" or "N tests, M errors
// found".
std::string verify_text(const VerifyResult& r, const ValueReader& reader = {});
// One JSON object: format, profile, rounding, tests, errors, passed, classes, distance, and
// "mismatches": objects {test, class, index, input, got, expected, distance[, note]} whose operands
// are {"hex", "value"}.
std::string verify_json(const VerifyResult& r, const ValueReader& reader = {});

}  // namespace lowbit::conformance

// ---- QEFT / OWQ packing sets (src/golden_gen_weak.cpp), GSE GEMM sets (src/golden_gen_gemm.cpp), and
// the verifier's tolerance mode ------------------------------------------------------------------------
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::conformance {

// QEFT / OWQ directory (one layout x bits x group x tuning, docs/formats/qeft-owq.md): L layers, each
// quantized and packed on its own by the reference; every array is the concatenation, layer by layer,
// of the flattened (row-major) per-layer arrays.
//   layers.npy                <u4 [L, 3]: oc, ic, k of each layer
//   inputs.npy                <u4: the f32 weights as bit patterns, oc x ic per layer, original column order
//   weak_idx.npy              <i4: each layer's k weak columns, ascending original indices
//   classes.npy               |u1: the class of each weight (its row's), names in "tests"[i]["class_names"]
//   expected_NAME.npy         one per buffer: QEFT qweight <i2 (oc/4 x ic), scales, scaled_zeros <u2 (f16
//                             bits, ic/G x oc), oweight <u2 (oc x k), oweight_interleaved <u2 (oc/2 x 2k),
//                             outlieridx <i4; OWQ qweight <i4 (ic/32*bits x oc), scales <u2 (oc), zeros |u1
//                             (oc/2), oweight <u2 (k x oc), outlieridx <i4; both codes |u1 (oc x ic, layout
//                             order) and the dequantized weights <u4 (f32 bits, layout order) of every
//                             kernel path: QEFT deq_gemv, deq_nowc; OWQ deq_fp16, deq_fp32, deq_nowc
//   NAME_inputs / NAME_classes  per element of buffer NAME: the operand shown for a mismatch, the f32 weight
//                             (bits) of the first weight the element holds (a packed word: the code in its
//                             lowest bits; scales / zeros: the group's first layout column; outlieridx: the
//                             index itself), and that weight's row class
// Each buffer is one test; codes and every deq_* share codes_inputs / codes_classes.
enum class WeakCaseClass : std::uint8_t {
  random, zero_group, ties, code_extremes, signed_zero, negative, constant, outlier, fp16_special,
  partial_group, k0, weak_only, edge
};
inline constexpr std::string_view kWeakCaseClassNames[] = {
    "random",  "zero-group", "ties",          "code-extremes", "signed-zero", "negative", "constant",
    "outlier", "fp16-special", "partial-group", "k0",          "weak-only",   "edge"};

struct WeakGenOptions : GenCommon {
  weak::Layout layout = weak::Layout::qeft;
  weak::QuantOptions quant;                            // bits, group (0 = per channel), sym, tuning, grid
  std::size_t rows = 16, cols = 256, weak = 32;      // the edge layer's and the random layers' shape
};

struct WeakGenLayer {
  std::size_t oc = 0, ic = 0;
  std::vector<float> w;                   // oc x ic, original column order
  std::vector<std::int32_t> weak;         // ascending
  std::vector<std::uint8_t> row_classes;  // per row, WeakCaseClass
  WeakCaseClass cls{};                    // the layer's (for outlieridx)
};

// Boundary: an `edge` layer (rows x cols, k = weak) whose rows cycle through all-zero groups (with -0),
// exact ties, groups whose extremes land on codes 0 and maxq (the maximum rounds past maxq and
// clamps), all-positive groups (minmax zero point -0.0), all-negative, constant, a 1000x outlier, and
// fp16 specials (quantized weights below 2^-14, weak columns +-65504, 2^-24, 2^-25, -0); a layer whose
// last group holds one column (k = G - 1, grouped QEFT only); k = 0; k = cols - 1 (weak-only groups).
// Quick adds seeded random layers with random k and weak columns.
std::vector<WeakGenLayer> weak_gen_layers(const WeakGenOptions& o);

// One buffer of one layer, as gen_weak writes it (before concatenation).
struct WeakGenBuffer {
  std::string name;  // qweight, scales, ..., codes, deq_gemv, ...
  io::npy::Array expected;
  std::vector<std::uint32_t> inputs;  // empty for codes-shaped buffers (they use codes_inputs)
  std::vector<std::uint8_t> classes;
};
// The generator's packing path: ref::weak_quantize + qeft_pack / owq_pack + the unpack paths.
// Throws std::runtime_error for a shape or option the layout rejects.
std::vector<WeakGenBuffer> weak_gen_buffers(weak::Layout l, const weak::QuantOptions& q, const WeakGenLayer& layer);
GenSummary gen_weak(const WeakGenOptions& o, const std::string& dir);

// GSE GEMM directory (docs/formats/gse.md section 9; one gse::Format for A and B x accumulation): P
// problems C = A B^T, arrays concatenated problem by problem, each row-major.
//   problems.npy   <u4 [P, 3]: m, n, k
//   a_codes.npy    |i1 (m x k), a_exps.npy |u1 (m x groups(k)); b_codes, b_exps likewise with n rows
//   expected.npy   <u4: C (m x n) as f32 bits, as ref::gse_gemm_ref computes it with the set's accumulation
//   classes.npy    |u1: each output's class (its problem's)
//   other.npy      <u4: C with the other accumulation, the operand shown for a mismatch (got == other
//                  means the vendor accumulated the other way)
//   tolerance.npy  <u4 (fp32 sets only): the per-output bound of gse_gemm_fp32_bound as f32 bits; the
//                  test names it in its "tolerance" field, which verify uses only when asked
enum class GseGemmCaseClass : std::uint8_t { tail, exp_extreme, max_mantissa, cancellation, zero_group, nan, random };
inline constexpr std::string_view kGseGemmCaseClassNames[] = {"tail",         "exp-extreme", "max-mantissa", "cancellation",
                                                              "zero-group",   "nan",         "random"};

struct GseGemmGenOptions : GenCommon {
  gse::Format format;
  gse::Accumulate accumulate = gse::Accumulate::exact;
  std::size_t m = 5, n = 17, k = 0;  // k = 0: 4 N + 3
};
// The most elements (operand codes, exponent fields and outputs, over every problem) a gse-gemm set
// may hold; gse_gemm_gen_cases refuses larger m, n, k and random before generating anything.
inline constexpr std::uint64_t kMaxGseGemmGenElements = std::uint64_t{1} << 26;

struct GseGemmProblem {
  std::size_t m = 0, n = 0, k = 0;
  std::vector<std::int8_t> a, b;
  std::vector<std::uint8_t> a_exps, b_exps;
  GseGemmCaseClass cls{};
};

// Boundary: for every k in 1 .. 2N+1 (every tail length against the group, odd k against pairwise
// packing) an m x n problem; at k: exponent fields 0 and 2^e - 2 crossed, all-maximal mantissas,
// cancellation of large groups around small ones (k rounded up to whole groups, at least 3), zero
// groups under large exponent fields, NaN groups. Quick adds random problems at m x n x k.
std::vector<GseGemmProblem> gse_gemm_gen_cases(const GseGemmGenOptions& o);

// Per output, a bound on |r - y| for y the reference's fp32 result and r any result that forms the
// products exactly (or rounds each once) and adds them in f32 in any order (docs/conformance.md):
// 2 gamma_{k-1} S + k 2^-148, S = sum |a_t b_t| 2^(e_t) exactly, gamma_j = j u / (1 - j u), u = 2^-24,
// rounded up to f32 (Inf beyond FLT_MAX); 0 for an output with a NaN group.
std::vector<float> gse_gemm_fp32_bound(const GseGemmProblem& p, const gse::Format& f);
GenSummary gen_gse_gemm(const GseGemmGenOptions& o, const std::string& dir);

// Verification with options. tolerance: a test whose manifest entry names a "tolerance" array (f32
// bounds, one per element of f32 outputs) accepts an f32 output r for expected y when |r - y| <= bound
// exactly (NaN only for NaN, an infinite y only itself, an infinite bound anything but NaN); without
// it, and for every other test, comparison is bit-exact. Asking for tolerance on a set without any
// tolerance array is an error.
struct VerifyOptions {
  std::size_t max_errors = 20;
  bool tolerance = false;
};
VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, const VerifyOptions& o);

}  // namespace lowbit::conformance
