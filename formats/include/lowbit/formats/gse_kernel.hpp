// The one kernel signature per GSE-INT operation, shared by the reference and every SIMD ISA.
// Storage is the unpacked layout: one int8 (two's complement) per element, one exponent field
// byte per group of N; a call covers whole groups from its first element (the last may be short).
#pragma once
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/gse.hpp"

namespace lowbit {

struct GseEncodeParams {
  GseFormat format;
  Rounding rounding;
  std::uint64_t seed;                // Philox-4x32-10 key for Rounding::sr
  std::uint64_t index0;              // stream index of in[0]: picks the Philox counter
  const std::uint32_t* random_bits;  // sr only: word i for in[i]; null = Philox(seed)
};

// Block-level status of an encode (what IEEE flags would be for a scalar format).
struct BlockStats {
  std::uint64_t groups = 0;
  std::uint64_t nan_groups = 0;      // NaN or Inf input, or exponent overflow with ExponentOverflow::nan
  std::uint64_t exp_underflow = 0;   // non-zero maximum below 2^emin: exponent clamped up
  std::uint64_t exp_overflow = 0;    // maximum at or above 2^(emax+1): clamped down (or NaN)
  std::uint64_t bumped = 0;          // groups whose exponent went up (MantissaOverflow::bump)
  std::uint64_t saturated = 0;       // elements set to +-(2^(b-1) - 1) because they did not fit

  BlockStats& operator+=(const BlockStats& o) {
    groups += o.groups;
    nan_groups += o.nan_groups;
    exp_underflow += o.exp_underflow;
    exp_overflow += o.exp_overflow;
    bumped += o.bumped;
    saturated += o.saturated;
    return *this;
  }
  bool operator==(const BlockStats&) const = default;
};

template <class In>
using GseEncodeFn = void (*)(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps,
                             const GseEncodeParams* params, BlockStats* stats /* may be null */);
template <class Out>
using GseDecodeFn = void (*)(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out,
                             const GseFormat* format);

struct GseImpl {
  const char* name;
  unsigned width;
  bool (*available)();
  GseEncodeFn<float> encode_f32;
  GseEncodeFn<f16> encode_f16;
  GseEncodeFn<bf16> encode_bf16;
  GseDecodeFn<float> decode_f32;
  GseDecodeFn<f16> decode_f16;
  GseDecodeFn<bf16> decode_bf16;
};

// The integer GEMM C = A B^T on GSE operands grouped along the reduction dimension k. A is m x k,
// B is n x k (a linear layer's weight), both row-major in the unpacked layout with every row
// encoded on its own: codes m*k, exponent fields m*groups(k). C is m x n row-major f32.
enum class Accumulate : std::uint8_t {
  exact,  // the exact sum of all products, rounded once to f32 (nearest even)
  fp32,   // per group g in order: acc = f32(acc + f32(dot_g * 2^e_g)), acc starting at +0
};

struct GseGemmParams {
  GseFormat a, b;  // may differ in bits and exponent fields; the group size must match
  Accumulate accumulate;
};

using GseGemmFn = void (*)(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a,
                           const std::uint8_t* a_exps, const std::int8_t* b, const std::uint8_t* b_exps,
                           float* c, const GseGemmParams* params);

struct GseGemmImpl {
  const char* name;
  bool (*available)();
  GseGemmFn gemm;
};

template <class In> constexpr GseEncodeFn<In> GseImpl::* gse_encode_slot();
template <> constexpr GseEncodeFn<float> GseImpl::* gse_encode_slot<float>() { return &GseImpl::encode_f32; }
template <> constexpr GseEncodeFn<f16> GseImpl::* gse_encode_slot<f16>() { return &GseImpl::encode_f16; }
template <> constexpr GseEncodeFn<bf16> GseImpl::* gse_encode_slot<bf16>() { return &GseImpl::encode_bf16; }
template <class Out> constexpr GseDecodeFn<Out> GseImpl::* gse_decode_slot();
template <> constexpr GseDecodeFn<float> GseImpl::* gse_decode_slot<float>() { return &GseImpl::decode_f32; }
template <> constexpr GseDecodeFn<f16> GseImpl::* gse_decode_slot<f16>() { return &GseImpl::decode_f16; }
template <> constexpr GseDecodeFn<bf16> GseImpl::* gse_decode_slot<bf16>() { return &GseImpl::decode_bf16; }

}  // namespace lowbit
