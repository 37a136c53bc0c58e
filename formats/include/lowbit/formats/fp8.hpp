// FP8 E4M3 (OCP E4M3FN) and E5M2: what the formats are, and the named profiles that reproduce
// peers (ml_dtypes, CUDA) bit for bit. docs/formats/fp8.md is the prose version of this file.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit {

enum class Fp8Format : std::uint8_t { e4m3, e5m2 };

struct Fp8Traits {
  std::string_view name;
  BinaryLayout layout;
  std::uint8_t max_finite;     // magnitude code of the largest finite value
  bool has_inf;                // E5M2 has +-Inf at 0x7C/0xFC; E4M3 has none
  std::uint8_t inf;            // magnitude code of Inf (E5M2 only)
  std::uint8_t canonical_nan;  // magnitude code of the NaN lowbit writes by default
};

inline constexpr Fp8Traits kE4m3{"e4m3", {4, 3}, 0x7E, false, 0x00, 0x7F};
inline constexpr Fp8Traits kE5m2{"e5m2", {5, 2}, 0x7B, true, 0x7C, 0x7E};

constexpr const Fp8Traits& traits(Fp8Format f) { return f == Fp8Format::e4m3 ? kE4m3 : kE5m2; }
inline constexpr std::array kFp8Formats{Fp8Format::e4m3, Fp8Format::e5m2};

constexpr bool is_nan(Fp8Format f, std::uint8_t code) {
  const std::uint8_t mag = code & 0x7F;
  return f == Fp8Format::e4m3 ? mag == 0x7F : mag > 0x7C;
}

// e4m3fn is the LLVM/ml_dtypes spelling of the same format.
constexpr std::optional<Fp8Format> parse_fp8_format(std::string_view s) {
  if (s == "e4m3" || s == "e4m3fn") return Fp8Format::e4m3;
  if (s == "e5m2") return Fp8Format::e5m2;
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

struct Fp8Profile {
  std::string_view name;
  bool saturate_finite;  // a finite value beyond max finite -> +-max instead of NaN (E4M3) / Inf (E5M2)
  bool saturate_inf;     // +-Inf -> +-max finite
  NanEncode nan_f32, nan_f64, nan_f16, nan_bf16;
  NanDecode nan_decode;
  std::string_view summary;
};

inline constexpr std::array kFp8Profiles{
    Fp8Profile{"ml_dtypes", false, false, NanEncode::keep_sign, NanEncode::keep_sign,
               NanEncode::keep_sign_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet,
               "ml_dtypes / PyTorch casts: overflow -> NaN (E4M3) or Inf (E5M2); NaN keeps its sign"},
    Fp8Profile{"ml_dtypes-sat", true, false, NanEncode::keep_sign, NanEncode::keep_sign,
               NanEncode::keep_sign_payload, NanEncode::keep_sign, NanDecode::keep_sign_quiet,
               "ml_dtypes ConvertFrom<kSaturate=true>: finite overflow -> max; Inf stays NaN/Inf"},
    Fp8Profile{"cuda-nosat", false, false, NanEncode::positive_ones, NanEncode::keep_sign_payload,
               NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda,
               "CUDA __NV_NOSAT host conversions: float/half/bf16 NaN -> 0x7F, double NaN keeps sign"},
    Fp8Profile{"cuda-satfinite", true, true, NanEncode::positive_ones, NanEncode::keep_sign_payload,
               NanEncode::positive_ones, NanEncode::positive_ones, NanDecode::cuda,
               "CUDA __NV_SATFINITE host conversions: finite overflow and Inf -> max"},
};

constexpr const Fp8Profile& default_fp8_profile() { return kFp8Profiles[0]; }

constexpr const Fp8Profile* find_fp8_profile(std::string_view s) {
  for (const Fp8Profile& p : kFp8Profiles)
    if (p.name == s) return &p;
  return nullptr;
}

constexpr NanEncode nan_encode(const Fp8Profile& p, FloatType source) {
  switch (source) {
    case FloatType::f32: return p.nan_f32;
    case FloatType::f64: return p.nan_f64;
    case FloatType::f16: return p.nan_f16;
    case FloatType::bf16: return p.nan_bf16;
  }
  return p.nan_f32;
}

}  // namespace lowbit
