// lowbit::nvfp4, the public NVFP4 API as TransformerEngine's reference quantizer computes it: a
// rows x cols row-major f32 matrix in; E2M1 codes (one byte each, or packed two per byte), E4M3FN scales
// (one per row and 16 columns, linear or in cuBLAS's swizzled layout) and the tensor's f32 amax out;
// throws lowbit::Error.
// docs/formats/nvfp4.md. The verbs are those of every family (docs/api.md, "The verbs").
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/nvfp4.hpp"

namespace lowbit::nvfp4 {

struct Options {
  std::size_t cols = 0;                    // the row length; 0: one row of all the input
  Blocking blocking = Blocking::d1;        // d1: 1x16 blocks, d2: 16x16 tiles share a scale
  ScaleLayout layout = ScaleLayout::linear;
  Rounding rounding = Rounding::rne;       // rne or sr
  std::uint64_t seed = 0;                  // sr: the Philox-4x32-10 key of the random words
  std::uint64_t index0 = 0;                // sr: stream index of the first random word
  std::span<const std::uint32_t> random_bits;  // sr: empty = Philox(seed); else random_words(n) words
  std::optional<float> global_amax;        // encode: the tensor's amax; default: max |x| of the input
  bool packed = false;                     // codes two per byte, element 2j in the low nibble (CUDA's fp4x2)
  const Impl* impl = nullptr;              // a row of kernels::list<nvfp4::Impl>(); null: the fastest
};

struct Shape {
  std::size_t rows, cols;
};
// The matrix `n` elements make under `o` (cols must divide n).
Shape shape(std::size_t n, const Options& o = {});
// Scale bytes of n elements under `o`: scale_count(rows, cols, o.layout).
std::size_t scales(std::size_t n, const Options& o = {});
// Code bytes of n elements: n, or ceil(n / 2) when o.packed (fp8::packed_size of E2M1: the codes of the
// whole row-major matrix as one stream, a row of odd length sharing its last byte with the next row).
std::size_t code_bytes(std::size_t n, const Options& o = {});
// The sr words n elements take: rows * sr_words_per_row(cols).
std::size_t random_words(std::size_t n, const Options& o = {});
// max |x| (NaN if any x is NaN), the per-tensor value NVFP4 keeps.
float amax(std::span<const float> in);

// codes.size() == code_bytes(in.size(), o), scales.size() == scales(in.size(), o); returns the amax used.
float encode(std::span<const float> in, std::span<std::uint8_t> codes, std::span<std::uint8_t> scales,
             const Options& o = {});
struct Encoded {
  std::vector<std::uint8_t> codes;   // one E2M1 code per element, or two per byte (o.packed)
  std::vector<std::uint8_t> scales;  // E4M3FN, in o.layout
  float global_amax;
  std::size_t elements = 0;          // the element count (a packed odd count has a padding nibble)
};
Encoded encode(std::span<const float> in, const Options& o = {});

// out.size() elements from code_bytes(out.size(), o) code bytes (packed: padding bits zero, else Errc::data).
void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, float global_amax,
            std::span<float> out, const Options& o = {});
std::vector<float> decode(const Encoded& e, const Options& o = {});  // e.elements values

// out.size() == in.size(); in and out may be the same buffer.
void quantize(std::span<const float> in, std::span<float> out, const Options& o = {});
std::vector<float> quantize(std::span<const float> in, const Options& o = {});

}  // namespace lowbit::nvfp4
