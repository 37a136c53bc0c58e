// lowbit::gse, the public GSE-INT API (MXINT8 is the GSE format mxint8_format()): spans in, spans
// out, an Options struct with defaults. Runs the fastest kernels this CPU has, bit-identical to the
// reference; throws lowbit::Error. Storage is the unpacked layout: one int8 code per element, one
// exponent field byte per group (docs/formats/gse.md). The verbs (docs/api.md, "The verbs"):
//   encode    values -> codes + exponent fields (+ BlockStats: what the encode met)
//   decode    codes + exponent fields -> values
//   quantize  encode then decode (fake quantization)
//   pack / unpack   the unpacked layout <-> the bit-packed layout
//   gemm      C = A B^T on two encoded operands
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/gse.hpp"

namespace lowbit::gse {

struct Options {
  Format format;                      // INT8, groups of 32, 5-bit shared exponent
  Rounding rounding = Rounding::rne;  // encode: rne, rna, rtz or sr
  std::uint64_t seed = 0;             // sr: the Philox-4x32-10 key
  std::uint64_t index0 = 0;           // sr: stream index of in[0]
  std::span<const std::uint32_t> random_bits = {};  // sr: one word per element, instead of Philox
  const Impl* impl = nullptr;                       // a row of kernels::list<gse::Impl>(); null: the fastest
};

// A flat stream: groups of format.group consecutive elements, the last one possibly short.
// codes.size() == in.size(), exps.size() == format.groups(in.size()).
BlockStats encode(std::span<const float> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o = {});
BlockStats encode(std::span<const f16> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o = {});
BlockStats encode(std::span<const bf16> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o = {});

struct Encoded {
  std::vector<std::int8_t> codes;  // one per element
  std::vector<std::uint8_t> exps;  // one per group
  BlockStats stats;
};
Encoded encode(std::span<const float> in, const Options& o = {});
Encoded encode(std::span<const f16> in, const Options& o = {});
Encoded encode(std::span<const bf16> in, const Options& o = {});

// Codes must lie in [-(2^(b-1) - 1), 2^(b-1) - 1] (Error otherwise).
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<float> out, const Options& o = {});
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<f16> out, const Options& o = {});
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<bf16> out, const Options& o = {});
// Out: float, f16 or bf16.
template <class Out = float>
std::vector<Out> decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Options& o = {});

// out.size() == in.size(); in and out may be the same buffer.
BlockStats quantize(std::span<const float> in, std::span<float> out, const Options& o = {});
BlockStats quantize(std::span<const f16> in, std::span<f16> out, const Options& o = {});
BlockStats quantize(std::span<const bf16> in, std::span<bf16> out, const Options& o = {});
std::vector<float> quantize(std::span<const float> in, const Options& o = {});
std::vector<f16> quantize(std::span<const f16> in, const Options& o = {});
std::vector<bf16> quantize(std::span<const bf16> in, const Options& o = {});

// A row-major matrix, each row grouped on its own (as GEMM operands are, along k):
// exps.size() == rows * format.groups(cols). Element (r, c) has stream index r * cols + c.
BlockStats encode_rows(std::size_t rows, std::size_t cols, std::span<const float> in, std::span<std::int8_t> codes,
                       std::span<std::uint8_t> exps, const Options& o = {});
Encoded encode_rows(std::size_t rows, std::size_t cols, std::span<const float> in, const Options& o = {});

// The bit-packed layout (docs/formats/gse.md): bytes of n elements; pack and unpack.
std::size_t packed_bytes(std::size_t n, const Format& f);
void pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Format& f,
          std::span<std::uint8_t> packed);
std::vector<std::uint8_t> pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Format& f);
// Error (Errc::data) if `packed` holds the unused code -2^(b-1).
void unpack(std::span<const std::uint8_t> packed, const Format& f, std::span<std::int8_t> codes,
            std::span<std::uint8_t> exps);
Encoded unpack(std::span<const std::uint8_t> packed, std::size_t n, const Format& f);  // stats empty

struct GemmOperand {
  std::span<const std::int8_t> codes;  // rows x k
  std::span<const std::uint8_t> exps;  // rows x groups(k)
  Format format;
};
struct GemmOptions {
  Accumulate accumulate = Accumulate::exact;
  const GemmImpl* impl = nullptr;  // a row of kernels::list<gse::GemmImpl>(); null: the fastest
};
// C (m x n) = A (m x k) B^T (B: n x k).
void gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b, std::span<float> c,
          const GemmOptions& o = {});
std::vector<float> gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b,
                        const GemmOptions& o = {});

}  // namespace lowbit::gse
