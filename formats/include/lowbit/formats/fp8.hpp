// FP8 E4M3 (OCP E4M3FN) and E5M2: what the formats are, the named profiles that reproduce peers
// (ml_dtypes, CUDA) bit for bit, and the one kernel signature per operation, shared by the
// reference, every SIMD ISA and (through lowbit/vendor.h) vendor plugins. docs/formats/fp8.md is the
// prose version of this file.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::fp8 {

enum class Format : std::uint8_t { e4m3, e5m2 };

struct Traits {
  std::string_view name;
  BinaryLayout layout;
  std::uint8_t max_finite;     // magnitude code of the largest finite value
  bool has_inf;                // E5M2 has +-Inf at 0x7C/0xFC; E4M3 has none
  std::uint8_t inf;            // magnitude code of Inf (E5M2 only)
  std::uint8_t canonical_nan;  // magnitude code of the NaN lowbit writes by default
};

inline constexpr Traits kE4m3{"e4m3", {4, 3}, 0x7E, false, 0x00, 0x7F};
inline constexpr Traits kE5m2{"e5m2", {5, 2}, 0x7B, true, 0x7C, 0x7E};

constexpr const Traits& traits(Format f) { return f == Format::e4m3 ? kE4m3 : kE5m2; }
inline constexpr std::array kFormats{Format::e4m3, Format::e5m2};

constexpr bool is_nan(Format f, std::uint8_t code) {
  const std::uint8_t mag = code & 0x7F;
  return f == Format::e4m3 ? mag == 0x7F : mag > 0x7C;
}

// e4m3fn is the LLVM/ml_dtypes spelling of the same format.
constexpr std::optional<Format> parse_format(std::string_view s) {
  if (s == "e4m3" || s == "e4m3fn") return Format::e4m3;
  if (s == "e5m2") return Format::e5m2;
  return std::nullopt;
}

// How a NaN input is encoded. Resolved per profile and source type (see nan_encode below).
enum class NanEncode : std::uint8_t {
  keep_sign,          // sign | canonical NaN
  keep_sign_payload,  // sign | 0x7E | (second mantissa bit of the source): E5M2 keeps one payload bit
  positive_ones,      // 0x7F whatever the sign (CUDA canonicalises float NaNs first)
};

// How a NaN code is decoded.
enum class NanDecode : std::uint8_t {
  keep_sign_quiet,  // sign | the destination's default quiet NaN (f32 0x7FC00000, f16 0x7E00, bf16 0x7FC0)
  cuda,             // via CUDA's half 0x7FFF, sign dropped: f16 0x7FFF, f32 0x7FFFE000, bf16 0x7FFF
};

struct Profile {
  std::string_view name;
  bool saturate_finite;  // a finite value beyond max finite -> +-max instead of NaN (E4M3) / Inf (E5M2)
  bool saturate_inf;     // +-Inf -> +-max finite
  NanEncode nan_f32, nan_f64, nan_f16, nan_bf16;
  NanDecode nan_decode;
  std::string_view summary;
};

inline constexpr std::array kProfiles{
    Profile{"ml_dtypes", false, false, NanEncode::keep_sign, NanEncode::keep_sign,
               NanEncode::keep_sign_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet,
               "ml_dtypes / PyTorch casts: overflow -> NaN (E4M3) or Inf (E5M2); NaN keeps its sign"},
    Profile{"ml_dtypes-sat", true, false, NanEncode::keep_sign, NanEncode::keep_sign,
               NanEncode::keep_sign_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet,
               "ml_dtypes ConvertFrom<kSaturate=true>: finite overflow -> max; Inf stays NaN/Inf"},
    Profile{"cuda-nosat", false, false, NanEncode::positive_ones, NanEncode::keep_sign_payload,
               NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda,
               "CUDA __NV_NOSAT host conversions: float/half/bf16 NaN -> 0x7F, double NaN keeps sign"},
    Profile{"cuda-satfinite", true, true, NanEncode::positive_ones, NanEncode::keep_sign_payload,
               NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda,
               "CUDA __NV_SATFINITE host conversions: finite overflow and Inf -> max"},
};

constexpr const Profile& default_profile() { return kProfiles[0]; }

constexpr const Profile* find_profile(std::string_view s) {
  for (const Profile& p : kProfiles)
    if (p.name == s) return &p;
  return nullptr;
}

constexpr NanEncode nan_encode(const Profile& p, FloatType source) {
  switch (source) {
    case FloatType::f32: return p.nan_f32;
    case FloatType::f64: return p.nan_f64;
    case FloatType::f16: return p.nan_f16;
    case FloatType::bf16: return p.nan_bf16;
  }
  return p.nan_f32;
}

// ---- kernels ----------------------------------------------------------------------------------------

// A profile resolved for one source type: everything an encode kernel needs, nothing more.
struct EncodeParams {
  Format format;
  Rounding rounding;
  bool saturate_finite;
  bool saturate_inf;
  NanEncode nan;
  std::uint64_t seed;                // Philox-4x32-10 key for Rounding::sr
  std::uint64_t index0;              // global element index of in[0]: picks the Philox counter
  const std::uint32_t* random_bits;  // sr only: word i for in[i]; null = Philox(seed)
};

struct DecodeParams {
  Format format;
  NanDecode nan;
};

constexpr EncodeParams encode_params(Format f, const Profile& p, FloatType source,
                                             Rounding r = Rounding::rne, std::uint64_t seed = 0) {
  return {f, r, p.saturate_finite, p.saturate_inf, nan_encode(p, source), seed, 0, nullptr};
}
constexpr DecodeParams decode_params(Format f, const Profile& p) {
  return {f, p.nan_decode};
}

template <class In>
using EncodeFn = void (*)(std::size_t n, const In* in, std::uint8_t* out,
                             const EncodeParams* params);
template <class Out>
using DecodeFn = void (*)(std::size_t n, const std::uint8_t* in, Out* out,
                             const DecodeParams* params);

// An implementation: one row of the kernel list (optimized/include/lowbit/kernels.inc), or a vendor plugin. A null
// function means "not provided": dispatch then uses the reference for that operation.
struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn<float> encode_f32 = nullptr;
  EncodeFn<double> encode_f64 = nullptr;
  EncodeFn<f16> encode_f16 = nullptr;
  EncodeFn<bf16> encode_bf16 = nullptr;
  DecodeFn<float> decode_f32 = nullptr;
  DecodeFn<f16> decode_f16 = nullptr;
  DecodeFn<bf16> decode_bf16 = nullptr;
};

template <class In> constexpr EncodeFn<In> Impl::* encode_slot();
template <> constexpr EncodeFn<float> Impl::* encode_slot<float>() { return &Impl::encode_f32; }
template <> constexpr EncodeFn<double> Impl::* encode_slot<double>() { return &Impl::encode_f64; }
template <> constexpr EncodeFn<f16> Impl::* encode_slot<f16>() { return &Impl::encode_f16; }
template <> constexpr EncodeFn<bf16> Impl::* encode_slot<bf16>() { return &Impl::encode_bf16; }

template <class Out> constexpr DecodeFn<Out> Impl::* decode_slot();
template <> constexpr DecodeFn<float> Impl::* decode_slot<float>() { return &Impl::decode_f32; }
template <> constexpr DecodeFn<f16> Impl::* decode_slot<f16>() { return &Impl::decode_f16; }
template <> constexpr DecodeFn<bf16> Impl::* decode_slot<bf16>() { return &Impl::decode_bf16; }

}  // namespace lowbit::fp8
