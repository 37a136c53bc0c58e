// NVFP4 as NVIDIA's TransformerEngine quantizes it: E2M1 elements, one E4M3 (OCP E4M3FN) decode scale
// per 16 elements of a row, one f32 per-tensor amax from which the global scale 448 * 6 / amax is
// derived (two-level scaling). Blocks are 1x16 (1-D) or 16x16 tiles that share one scale (2-D; the
// scale is still stored once per row and 16 columns, as cuBLAS reads it). Scales are stored row-major
// (linear) or in the 128x4 tile interleave cuBLAS expects (swizzled). docs/formats/nvfp4.md is the
// prose version of this file, with the order of operations and its sources.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lowbit/formats/rounding.hpp"

namespace lowbit::nvfp4 {

inline constexpr std::size_t kBlock = 16;        // elements of a row sharing a scale
inline constexpr float kE2m1Max = 6.0f;          // largest E2M1 magnitude
inline constexpr float kE4m3Max = 448.0f;        // largest E4M3FN magnitude
inline constexpr std::uint8_t kScaleNan = 0x7F;  // the E4M3FN NaN a NaN amax gives

enum class Blocking : std::uint8_t { d1, d2 };               // 1x16 or 16x16 blocks
enum class ScaleLayout : std::uint8_t { linear, swizzled };  // row-major, or cuBLAS's 128x4 interleave

constexpr std::string_view name(Blocking b) { return b == Blocking::d1 ? "1d" : "2d"; }
constexpr std::string_view name(ScaleLayout l) { return l == ScaleLayout::linear ? "linear" : "swizzled"; }
constexpr std::optional<Blocking> parse_blocking(std::string_view s) {
  if (s == "1d") return Blocking::d1;
  if (s == "2d") return Blocking::d2;
  return std::nullopt;
}
constexpr std::optional<ScaleLayout> parse_scale_layout(std::string_view s) {
  if (s == "linear") return ScaleLayout::linear;
  if (s == "swizzled") return ScaleLayout::swizzled;
  return std::nullopt;
}

// Scale blocks of a row of `cols` elements.
constexpr std::size_t row_blocks(std::size_t cols) { return (cols + kBlock - 1) / kBlock; }

// The swizzled layout pads rows to 128 and blocks to 4: 512-byte tiles of 128 rows x 4 blocks.
constexpr std::size_t padded_rows(std::size_t rows, ScaleLayout l) {
  return l == ScaleLayout::linear ? rows : (rows + 127) / 128 * 128;
}
constexpr std::size_t padded_blocks(std::size_t cols, ScaleLayout l) {
  return l == ScaleLayout::linear ? row_blocks(cols) : (row_blocks(cols) + 3) / 4 * 4;
}
// Bytes of the scale array of a rows x cols matrix (the swizzled padding is written as zero).
constexpr std::size_t scale_count(std::size_t rows, std::size_t cols, ScaleLayout l) {
  return padded_rows(rows, l) * padded_blocks(cols, l);
}

// Where the scale of (row, block) lives. Swizzled: tile (row / 128, block / 4) in row-major tile
// order, inside it offset (row % 32) * 16 + (row % 128 / 32) * 4 + block % 4 (cuBLAS, "1D Block Scaling
// Factors Layout"; TransformerEngine's gemm_swizzled_scale_idx).
constexpr std::size_t scale_index(std::size_t row, std::size_t block, std::size_t cols, ScaleLayout l) {
  if (l == ScaleLayout::linear) return row * row_blocks(cols) + block;
  const std::size_t tile = (row / 128) * (padded_blocks(cols, l) / 4) + block / 4;
  return tile * 512 + (row % 32) * 16 + (row % 128 / 32) * 4 + block % 4;
}

// Stochastic rounding takes 8 random bits per element: element c of a row uses byte c % 4 of word
// row * sr_words_per_row(cols) + c / 4 (TransformerEngine: one 32-bit word per 4 elements).
constexpr std::size_t sr_words_per_row(std::size_t cols) { return (cols + 3) / 4; }

// ---- kernels ----------------------------------------------------------------------------------------

// The one kernel signature per operation. A rows x cols row-major f32 matrix; codes one byte per element
// (the E2M1 code in the low 4 bits, sign at bit 3); scales E4M3FN bytes, scale_count(rows, cols, layout).
struct EncodeParams {
  std::size_t rows, cols;
  Blocking blocking;
  ScaleLayout layout;
  Rounding rounding;             // rne or sr
  float global_amax;             // max |x| of the tensor (NaN if it has a NaN): the per-tensor value kept
  const std::uint32_t* random;   // sr: rows * sr_words_per_row(cols) words; unused for rne
};
struct DecodeParams {
  std::size_t rows, cols;
  ScaleLayout layout;
  float global_amax;
};

using EncodeFn = void (*)(const float* in, std::uint8_t* codes, std::uint8_t* scales, const EncodeParams* params);
using DecodeFn = void (*)(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const DecodeParams* params);

struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", ...) or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn encode_f32 = nullptr;
  DecodeFn decode_f32 = nullptr;
};

}  // namespace lowbit::nvfp4
