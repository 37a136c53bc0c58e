// lowbit::mx, the public OCP MX API (MXINT8, MXFP8 E4M3/E5M2, MXFP6 E3M2/E2M3, MXFP4 E2M1) as
// microxcaling's C++ path computes them: spans in, spans out, an Options struct with defaults;
// throws lowbit::Error. Storage: one byte per element code, one E8M0 scale byte per block of 32
// (docs/formats/mx.md). The verbs are those of every family (docs/api.md, "The verbs").
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/mx.hpp"

namespace lowbit::mx {

struct Options {
  Format format = Format::fp8_e4m3;
  Rounding rounding = Rounding::rna;  // rna (microxcaling's 'nearest'), rne ('even'), rtz ('floor') or sr
  std::uint64_t seed = 0;             // sr: the Philox-4x32-10 key
  std::uint64_t index0 = 0;           // sr: stream index of in[0]
  const Impl* impl = nullptr;         // a row of kernels::list<mx::Impl>(); null: the fastest
};

// Scales of n elements: ceil(n / 32).
std::size_t blocks(std::size_t n);

// codes.size() == in.size(), scales.size() == blocks(in.size()).
BlockStats encode(std::span<const float> in, std::span<std::uint8_t> codes, std::span<std::uint8_t> scales,
                  const Options& o = {});
struct Encoded {
  std::vector<std::uint8_t> codes;   // one per element
  std::vector<std::uint8_t> scales;  // one E8M0 byte per block
  BlockStats stats;
};
Encoded encode(std::span<const float> in, const Options& o = {});

void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, std::span<float> out,
            const Options& o = {});
std::vector<float> decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, const Options& o = {});

// out.size() == in.size(); in and out may be the same buffer.
BlockStats quantize(std::span<const float> in, std::span<float> out, const Options& o = {});
std::vector<float> quantize(std::span<const float> in, const Options& o = {});

}  // namespace lowbit::mx
