// lowbit's public GSE-INT API (and MXINT8, a GSE format): spans in, spans out, an options struct.
// Runs the fastest kernels this CPU has, bit-identical to the reference. Throws lowbit::Error.
#pragma once
#include <cstdint>
#include <span>

#include "lowbit/error.hpp"
#include "lowbit/formats/gse_kernel.hpp"

namespace lowbit::gse {

struct Options {
  GseFormat format;
  Rounding rounding = Rounding::rne;
  std::uint64_t seed = 0;    // sr: Philox key
  std::uint64_t index0 = 0;  // sr: stream index of in[0]
  std::span<const std::uint32_t> random_bits = {};  // sr: one word per element, replaces Philox
  const GseImpl* impl = nullptr;                    // null: the best for this CPU
};

// A flat stream: groups of format.group consecutive elements, the last one possibly short.
// codes.size() == in.size(), exps.size() == format.groups(in.size()).
BlockStats encode(std::span<const float> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o);
BlockStats encode(std::span<const f16> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o);
BlockStats encode(std::span<const bf16> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps, const Options& o);
// Codes must lie in [-(2^(b-1) - 1), 2^(b-1) - 1].
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<float> out, const Options& o);
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<f16> out, const Options& o);
void decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<bf16> out, const Options& o);

// A row-major matrix, each row grouped on its own (as GEMM operands are, along k):
// exps.size() == rows * format.groups(cols). Element (r, c) has stream index r * cols + c.
BlockStats encode_rows(std::size_t rows, std::size_t cols, std::span<const float> in, std::span<std::int8_t> codes,
                       std::span<std::uint8_t> exps, const Options& o);

// The bit-packed layout (docs/formats/gse.md).
std::size_t packed_bytes(std::size_t n, const GseFormat& f);
void pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const GseFormat& f,
          std::span<std::uint8_t> packed);
void unpack(std::span<const std::uint8_t> packed, const GseFormat& f, std::span<std::int8_t> codes,
            std::span<std::uint8_t> exps);

struct GemmOperand {
  std::span<const std::int8_t> codes;  // rows x k
  std::span<const std::uint8_t> exps;  // rows x groups(k)
  GseFormat format;
};
// C (m x n) = A (m x k) B^T (B: n x k).
void gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b,
          std::span<float> c, Accumulate accumulate = Accumulate::exact, const GseGemmImpl* impl = nullptr);

}  // namespace lowbit::gse
