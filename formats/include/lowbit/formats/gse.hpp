// GSE-INT (group-shared-exponent integers, GSQ-Tuning) and its relative MXINT8: a group of N
// values shares one power-of-two exponent; each element is a b-bit two's-complement integer
// mantissa with no implicit leading 1. docs/formats/gse.md is the prose version of this file.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/block_stats.hpp"
#include "lowbit/formats/rounding.hpp"
#include "lowbit/formats/sizes.hpp"

namespace lowbit::gse {

// What happens when the group maximum rounds up to 2^(b-1), one past the largest mantissa.
enum class MantissaOverflow : std::uint8_t {
  saturate,  // that element becomes 2^(b-1) - 1 (as MX)
  bump,      // the group's exponent goes up by one and the group is rounded again
};

// What happens when a group's exponent is above the field's range (its maximum is too large).
enum class ExponentOverflow : std::uint8_t {
  saturate,  // the largest exponent; mantissas saturate to +-(2^(b-1) - 1)
  nan,       // the group is NaN
};

struct Format {
  int bits = 8;          // b, sign included: 4..8
  int group = 32;        // N: 16, 32, 64, 128 or 256
  int exp_bits = 5;      // 5 (GSE) or 8 (E8M0, as MX)
  int exp_bias = 15;     // field = exponent + bias - offset
  int exp_offset = 0;    // a per-tensor power of two added to every group's exponent
  MantissaOverflow mantissa_overflow = MantissaOverflow::saturate;
  ExponentOverflow exponent_overflow = ExponentOverflow::saturate;

  constexpr int max_mantissa() const { return (1 << (bits - 1)) - 1; }
  constexpr unsigned nan_field() const { return (1u << exp_bits) - 1; }  // all ones: a NaN group
  constexpr int emin() const { return exp_offset - exp_bias; }           // field 0
  constexpr int emax() const { return static_cast<int>(nan_field()) - 1 - exp_bias + exp_offset; }
  constexpr double bits_per_value() const { return (group * bits + exp_bits) / static_cast<double>(group); }
  constexpr std::size_t groups(std::size_t n) const { return ceil_div(n, static_cast<std::size_t>(group)); }
};

inline constexpr std::array kGroupSizes{16, 32, 64, 128, 256};

// OCP MXINT8 (microxcaling): 32 int8 elements k/64 with an E8M0 scale; use with Rounding::rna.
constexpr Format mxint8_format() {
  return {8, 32, 8, 127, 0, MantissaOverflow::saturate, ExponentOverflow::nan};
}

// A message naming the first invalid parameter, or nothing.
inline std::optional<std::string> validate(const Format& f) {
  if (f.bits < 4 || f.bits > 8) return "bits must be 4..8, got " + std::to_string(f.bits);
  bool group_ok = false;
  for (int g : kGroupSizes) group_ok |= g == f.group;
  if (!group_ok) return "group must be 16, 32, 64, 128 or 256, got " + std::to_string(f.group);
  if (f.exp_bits != 5 && f.exp_bits != 8) return "exp-bits must be 5 or 8, got " + std::to_string(f.exp_bits);
  if (f.exp_bias < 0 || f.exp_bias > static_cast<int>(f.nan_field()) - 1)
    return "exp-bias must be 0.." + std::to_string(f.nan_field() - 1) + " for " + std::to_string(f.exp_bits) +
           " exponent bits, got " + std::to_string(f.exp_bias);
  if (f.exp_offset < -100 || f.exp_offset > 100) return "exp-offset must be -100..100, got " + std::to_string(f.exp_offset);
  return std::nullopt;
}

// ---- kernels ----------------------------------------------------------------------------------------

// The one kernel signature per GSE-INT operation, shared by the reference and every SIMD ISA.
// Storage is the unpacked layout: one int8 (two's complement) per element, one exponent field
// byte per group of N; a call covers whole groups from its first element (the last may be short).

struct EncodeParams {
  Format format;
  Rounding rounding;
  std::uint64_t seed;                // Philox-4x32-10 key for Rounding::sr
  std::uint64_t index0;              // stream index of in[0]: picks the Philox counter
  const std::uint32_t* random_bits;  // sr only: word i for in[i]; null = Philox(seed)
};

template <class In>
using EncodeFn = void (*)(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps,
                             const EncodeParams* params, BlockStats* stats /* may be null */);
// Decoding also checks the codes: false if one lies outside +-(2^(b-1) - 1) (the outputs are
// written all the same, such a code decoding as code * 2^(E - (b-2)) like the others), so that a
// caller needs no pass of its own over the codes.
template <class Out>
using DecodeFn = bool (*)(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out,
                             const Format* format);

struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn<float> encode_f32 = nullptr;
  EncodeFn<f16> encode_f16 = nullptr;
  EncodeFn<bf16> encode_bf16 = nullptr;
  DecodeFn<float> decode_f32 = nullptr;
  DecodeFn<f16> decode_f16 = nullptr;
  DecodeFn<bf16> decode_bf16 = nullptr;
};

// The integer GEMM C = A B^T on GSE operands grouped along the reduction dimension k. A is m x k,
// B is n x k (a linear layer's weight), both row-major in the unpacked layout with every row
// encoded on its own: codes m*k, exponent fields m*groups(k). C is m x n row-major f32.
enum class Accumulate : std::uint8_t {
  exact,  // the exact sum of all products, rounded once to f32 (nearest even)
  fp32,   // per group g in order: acc = f32(acc + f32(dot_g * 2^e_g)), acc starting at +0
};

struct GemmParams {
  Format a, b;  // may differ in bits and exponent fields; the group size must match
  Accumulate accumulate;
};

// As decoding, a GEMM checks the codes: false if one of A or B lies outside +-(2^(b-1) - 1) of its
// format (C is written all the same). With m or n 0 it reads no code: true.
using GemmFn = bool (*)(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a,
                           const std::uint8_t* a_exps, const std::int8_t* b, const std::uint8_t* b_exps,
                           float* c, const GemmParams* params);

struct GemmImpl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  GemmFn gemm = nullptr;
};

template <class In> constexpr EncodeFn<In> Impl::* encode_slot();
template <> constexpr EncodeFn<float> Impl::* encode_slot<float>() { return &Impl::encode_f32; }
template <> constexpr EncodeFn<f16> Impl::* encode_slot<f16>() { return &Impl::encode_f16; }
template <> constexpr EncodeFn<bf16> Impl::* encode_slot<bf16>() { return &Impl::encode_bf16; }
template <class Out> constexpr DecodeFn<Out> Impl::* decode_slot();
template <> constexpr DecodeFn<float> Impl::* decode_slot<float>() { return &Impl::decode_f32; }
template <> constexpr DecodeFn<f16> Impl::* decode_slot<f16>() { return &Impl::decode_f16; }
template <> constexpr DecodeFn<bf16> Impl::* decode_slot<bf16>() { return &Impl::decode_bf16; }

}  // namespace lowbit::gse
