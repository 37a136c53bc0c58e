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
// in inputs.npy), as lowbit::encode with Fp8Options::seed = seed over the whole array.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/golden_io.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/nf4.hpp"

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

// Level 1: for every finite FP8 magnitude (every exponent and the subnormal range) the exact value,
// the midpoint to the next one (a tie) and one f32 ulp either side of it, both signs; the overflow
// region (around the midpoint above max finite, up to FLT_MAX), the underflow region (around half the
// smallest subnormal), +-0, +-Inf, NaNs (quiet, signalling, payloads, both signs), f32 subnormals.
// Level 2: level 1, then `random` seeded (SplitMix64) patterns, half uniform over all 32 bits and
// half with exponents near the format's range.
Fp8Cases fp8_gen_cases(Fp8Format f, int level, std::uint64_t seed, std::size_t random);

struct Fp8GenOptions {
  Fp8Format format = Fp8Format::e4m3;
  std::string profile = "ml_dtypes";
  Rounding rounding = Rounding::rne;
  std::uint64_t seed = 1;
  int level = 1;
  std::size_t random = 100000;  // level 2 only
  Container container = Container::npy;
};

// Writes the directory (created if missing); throws std::runtime_error on bad options or I/O errors.
GenSummary gen_fp8(const Fp8GenOptions& o, const std::string& dir);

// GSE directory (one GseFormat x rounding): a flat stream of groups, the last one short (a tail).
//   inputs.npy          <u4: the f32 inputs as bit patterns
//   expected_codes.npy  |i1: the element codes of the reference (lowbit/reference/gse.hpp)
//   expected_exps.npy   |u1: the exponent field of each group
//   classes.npy         |u1: each element's class (its group's), names in "tests"[0]["class_names"]
//   exp_inputs.npy      <u4: each group's largest |x| (f32 bits; NaN if the group has one), the
//                            operand shown for exponent mismatches
//   exp_classes.npy     |u1: each group's class
//   decode_expected.npy <u4: the f32 decoding of the expected codes and exponents
//   manifest.json       as for FP8, plus the GseFormat parameters
// sr: Philox-4x32-10(seed) at counter = element index, as lowbit::gse::encode with index0 = 0.
enum class GseCaseClass : std::uint8_t { exact, tie, near_tie, mantissa_overflow, exp_range, special, random, tail };
inline constexpr std::string_view kGseCaseClassNames[] = {"exact",     "tie",     "near-tie", "mantissa-overflow",
                                                          "exp-range", "special", "random",   "tail"};

struct GseCases {
  std::vector<std::uint32_t> inputs;  // f32 bit patterns, format.group per group, the last group short
  std::vector<std::uint8_t> classes;  // per element, GseCaseClass
};

// Level 1: for every shared exponent of the field (and one beyond each end, within f32's range) a
// group of exact multiples of the step with the largest mantissa, a group of ties (k + 1/2 steps), a
// group one f32 ulp either side of ties, and groups whose maximum rounds past the largest mantissa;
// groups with NaN, Inf, zeros, -0 and f32 subnormals; a short last group of ties (the tail).
// Level 2 inserts `random` seeded elements (rounded up to whole groups) before the tail: random
// exponents around the field's range and random mantissas.
GseCases gse_gen_cases(const GseFormat& f, int level, std::uint64_t seed, std::size_t random);

struct GseGenOptions {
  GseFormat format;
  Rounding rounding = Rounding::rne;
  std::uint64_t seed = 1;
  int level = 1;
  std::size_t random = 100000;
  Container container = Container::npy;
};
GenSummary gen_gse(const GseGenOptions& o, const std::string& dir);
// The GseFormat parameters as the manifests record them.
nlohmann::json gse_json(const GseFormat& f);

// NF4 / FP4 directory (bitsandbytes blockwise 4-bit, one table x profile x block size, no double
// quantization): inputs.npy <u4; expected_packed.npy |u1 (two codes a byte, element 2i in the high
// nibble); expected_codes.npy |u1 (one code per element, unpacked); expected_absmax.npy <u4 (f32
// bits, one per block); packed_inputs.npy <u4 (input of element 2i); classes.npy / packed_classes.npy / absmax_classes.npy |u1; absmax_inputs.npy
// <u4 (largest |x| per block); decode_expected.npy <u4 (dequantized f32 bits).
enum class Nf4CaseClass : std::uint8_t { exact, tie, near_tie, special, random, tail };
inline constexpr std::string_view kNf4CaseClassNames[] = {"exact", "tie", "near-tie", "special", "random", "tail"};

struct Nf4GenOptions {
  FourBitTable table = FourBitTable::nf4;
  std::string profile = "lowbit";
  int block = 64;
  std::uint64_t seed = 1;
  int level = 1;
  std::size_t random = 100000;
  Container container = Container::npy;
};
// Level 1: per absmax scale (powers of two across f32's range, 1, and odd values) a block of exact
// table values, one of midpoints between neighbouring table values (ties) and one a ulp either side;
// NaN / Inf / zero / -0 blocks; a short last block (the tail). Level 2 adds random blocks before it.
Fp8Cases nf4_gen_cases(const Nf4GenOptions& o);  // classes: Nf4CaseClass
GenSummary gen_nf4(const Nf4GenOptions& o, const std::string& dir);

struct ClassCount {
  std::uint64_t tests = 0, errors = 0;
};

struct VerifyResult {
  std::string kind, format, profile, rounding;  // kind: "fp8" or "gse"; profile empty for gse
  std::uint64_t tests = 0, errors = 0;
  std::vector<std::string> first_errors;  // "inputs 0x7f7fffff => got 0x7e expected 0x7f (class tie)"
  std::map<std::string, ClassCount> classes;         // "encode tie", "decode nan", ...
  std::map<std::uint64_t, std::uint64_t> distance;   // |ordinal(got) - ordinal(expected)| -> mismatches
  std::string distance_unit;  // per compared test, e.g. "encode: codes; decode: f32 ulps"

  bool passed() const { return tests > 0 && errors == 0; }
};

// Compares `actual` — one .npy (compared with the first golden output of its dtype and size), or a directory holding files
// named as the golden expected*.npy (each one present is compared; at least one must be) — with the
// golden directory, whose files are first checked against the manifest's SHA-256.
// Distances: FP8 codes and f32 bits in their sign-magnitude order, GSE codes as integers, exponent fields
// as unsigned.
VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, std::size_t max_errors);
// verify_golden of an FP8 directory only.
VerifyResult verify_fp8(const std::string& golden_dir, const std::string& actual, std::size_t max_errors);

// The signed position of a code in the sign-magnitude order (-0 and +0 both 0): distance between codes.
constexpr std::int64_t sign_magnitude_ordinal(std::uint64_t bits, unsigned width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  const auto mag = static_cast<std::int64_t>(bits & (sign - 1));
  return (bits & sign) ? -mag : mag;
}

// TestFloat-style text: the first errors, errors per class, the distance histogram, then
// "N tests, no errors found" or "N tests, M errors found".
std::string verify_text(const VerifyResult& r);
std::string verify_json(const VerifyResult& r);

}  // namespace lowbit::conformance
