// The quantized matmul of fully quantized training (GSQ-Tuning): both operands of C = A B^T are
// quantized along the reduction dimension k, multiplied, and the product dequantized.
//   f32:  no quantization; matmul_nt.
//   gse:  every row of A and of B is encoded on its own as GSE-INT (bits b, groups of 32 along k,
//         5-bit shared exponent, the per-tensor exponent offset below), then the integer GEMM with
//         exact accumulation (lowbit::gse::gemm, gse::Accumulate::exact): C is the exact sum of the
//         dequantized products rounded once to fp32.
//   fp8:  per-tensor scaling by a power of two from the current (finite) amax: scale =
//         2^ceil(log2(amax / max_finite)), found exactly, at least 2^-149 (1 for an all-zero
//         tensor); x / scale (exact, in double) encoded as E4M3 or E5M2 (profile
//         ml_dtypes-sat: saturating, no NaN from overflow) and decoded; C is the exact sum of the
//         products of the decoded codes times scale_a * scale_b, rounded once to fp32 (nearest even,
//         subnormal results and overflow to Inf included), as the GSE path. An entry with a NaN or
//         Inf factor is the IEEE sum of those products (NaN, or the Inf).
// The GSE per-tensor offset: the 5-bit exponent field covers 31 binades; gradients live far below
// 1, so each operand's offset is chosen from its amax as offset = floor(log2 amax) - 15 (the field
// then spans [amax / 2^30, amax]); groups below that still clamp and count as exp_underflow.
#pragma once
#include <cstdint>

#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/rounding.hpp"
#include "lowbit/training/matrix.hpp"

namespace lowbit::training {

struct OperandFormat {
  enum class Kind : std::uint8_t { f32, gse, fp8 };
  Kind kind = Kind::f32;
  int bits = 8;                         // gse: 4..8, sign included
  fp8::Format fp8 = fp8::Format::e4m3;      // fp8
  Rounding rounding = Rounding::rne;    // gse and fp8: rne, or sr for gradients

  static OperandFormat f32() { return {}; }
  static OperandFormat gse(int bits, Rounding r = Rounding::rne) { return {Kind::gse, bits, fp8::Format::e4m3, r}; }
  static OperandFormat e4m3() { return {Kind::fp8, 8, fp8::Format::e4m3, Rounding::rne}; }
  static OperandFormat e5m2() { return {Kind::fp8, 8, fp8::Format::e5m2, Rounding::rne}; }
  // Bits per element as stored (GSE: b + 5/32 for the shared exponent; fp8 8; f32 32).
  double bits_per_value() const;
};

// Counts over the operands quantized so far (GSE BlockStats summed). fp8 adds to `values` only:
// the amax scale maps every finite value into range, so nothing saturates.
struct QuantStats {
  std::uint64_t values = 0, groups = 0, exp_underflow = 0, exp_overflow = 0, saturated = 0;
};

// The GSE format of operand `a`: f.bits, groups of 32, 5-bit exponent (bias 15), the offset from
// a's finite amax as above (0 for an all-zero tensor), clamped to the field's -100..100.
gse::Format gse_format(const OperandFormat& f, const Matrix& a);

// The operand as the matmul sees it: quantized along each row and dequantized back to fp32
// (exactly the values the integer GEMM multiplies). `seed` keys stochastic rounding (Philox; the
// stream index is the element's row-major index).
Matrix quantize_rows(const Matrix& a, const OperandFormat& f, std::uint64_t seed = 0, QuantStats* stats = nullptr);

// C = Q(A) Q(B)^T, A m x k, B n x k, each quantized along k with its own format. Both formats must
// be of one kind (f32, gse or fp8). seed_a / seed_b key stochastic rounding of each operand.
Matrix qmatmul(const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
               std::uint64_t seed_a = 0, std::uint64_t seed_b = 0, QuantStats* stats = nullptr);

}  // namespace lowbit::training
