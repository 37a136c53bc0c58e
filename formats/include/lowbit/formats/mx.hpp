// The OCP MX block formats as microxcaling's C++ path computes them: blocks of 32 elements share
// an E8M0 scale 2^X. MXINT8 is the GSE format gse::mxint8_format() (gse.hpp); the others have
// minifloat elements. docs/formats/mx.md is the prose version of this file.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/block_stats.hpp"
#include "lowbit/formats/rounding.hpp"

namespace lowbit::mx {

enum class Format : std::uint8_t { int8, fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1 };

struct Traits {
  std::string_view name;
  Format format;
  BinaryLayout element;   // minifloat elements (unused for int8)
  std::uint8_t max_code;  // largest finite magnitude code (int8: 127)
  int emax;               // exponent of the largest element binade (int8: 0)
};

inline constexpr int kBlock = 32;
inline constexpr std::uint8_t kE8m0Nan = 0xFF;

inline constexpr std::array kFormats{
    Traits{"mxint8", Format::int8, {0, 0}, 127, 0},
    Traits{"mxfp8-e4m3", Format::fp8_e4m3, {4, 3}, 0x7E, 8},
    Traits{"mxfp8-e5m2", Format::fp8_e5m2, {5, 2}, 0x7B, 15},
    Traits{"mxfp6-e3m2", Format::fp6_e3m2, {3, 2}, 0x1F, 4},
    Traits{"mxfp6-e2m3", Format::fp6_e2m3, {2, 3}, 0x1F, 2},
    Traits{"mxfp4-e2m1", Format::fp4_e2m1, {2, 1}, 0x07, 2},
};

constexpr const Traits& traits(Format f) { return kFormats[static_cast<std::size_t>(f)]; }

constexpr std::optional<Format> parse_format(std::string_view s) {
  for (const Traits& t : kFormats)
    if (t.name == s) return t.format;
  return std::nullopt;
}

// The sign bit of an element code: the top bit of its width (0x80, 0x20 for FP6, 0x08 for FP4).
constexpr std::uint8_t sign_bit(const Traits& t) {
  return t.format == Format::int8 ? 0x80 : static_cast<std::uint8_t>(1u << (t.element.total_bits() - 1));
}

// ---- kernels ----------------------------------------------------------------------------------------

// The one kernel signature per MX operation. Storage: one byte per element (FP6/FP4 codes in the low
// bits, the sign at the top bit of their width; MXINT8 two's complement), one E8M0 scale byte per
// block of kBlock elements (the last block may be short).
struct EncodeParams {
  Format format;
  Rounding rounding;     // rna ('nearest', the default), rne ('even'), rtz ('floor'), sr
  std::uint64_t seed;    // sr: Philox-4x32-10 key
  std::uint64_t index0;  // sr: stream index of in[0]
};
struct DecodeParams {
  Format format;
};

using EncodeFn = void (*)(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales,
                          const EncodeParams* params, BlockStats* stats /* may be null */);
using DecodeFn = void (*)(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out,
                          const DecodeParams* params);

struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn encode_f32 = nullptr;
  DecodeFn decode_f32 = nullptr;
};

}  // namespace lowbit::mx
