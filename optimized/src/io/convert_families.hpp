// The decoders of convert.hpp's formats, one per family (each in its convert_<family>.cpp with the
// family's Target): decode() picks the one whose name is the format or its prefix before a '-'
// ("nf4" decodes nf4 and nf4-dq).
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lowbit/io/convert.hpp"

namespace lowbit::io::model::detail {

// Elements [first, first + out.size()) of F32, F16 or BF16 bytes `p`, as f32 (exact).
void read_f32(std::string_view dtype, const std::uint8_t* p, std::uint64_t first, std::span<float> out);

// lowbit's own quantization_config, for formats no loader knows: {"quant_method": "lowbit", "format": ...,
// then the target's options}.
std::string lowbit_quantization_config(const Target& t);

constexpr std::size_t kRowChunk = std::size_t{1} << 20;  // elements per parallel chunk (whole rows)

// body(first row, rows) over chunks of whole rows of an [oc, ic] weight, in parallel.
template <class Body> void each_rows(std::uint64_t oc, std::uint64_t ic, const Parallel& par, Body body) {
  const std::uint64_t step = std::max<std::uint64_t>(1, kRowChunk / std::max<std::uint64_t>(ic, 1));
  par.for_each((oc + step - 1) / step, [&](std::size_t i) { body(i * step, std::min(step, oc - i * step)); });
}

using DecodeFn = Decoded (*)(std::span<const safetensors::Tensor> tensors, const Parallel& par);

Decoded decode_bnb(std::span<const safetensors::Tensor> tensors, const Parallel& par);
Decoded decode_fp8(std::span<const safetensors::Tensor> tensors, const Parallel& par);
Decoded decode_blocks(std::span<const safetensors::Tensor> tensors, const Parallel& par);  // gse and mx (convert_blocks.hpp)
Decoded decode_gptoss(std::span<const safetensors::Tensor> tensors, const Parallel& par);  // gpt-oss's MXFP4 blocks + scales
Decoded decode_qeft(std::span<const safetensors::Tensor> tensors, const Parallel& par);
// OWQ's bit width is not in its buffers' shapes: recognise() reads it from the shard's metadata.
Decoded decode_owq3(std::span<const safetensors::Tensor> tensors, const Parallel& par);
Decoded decode_owq4(std::span<const safetensors::Tensor> tensors, const Parallel& par);
Decoded decode_owq_unknown(std::span<const safetensors::Tensor> tensors, const Parallel& par);

struct Decoder {
  std::string_view format;
  DecodeFn decode;
};
inline constexpr Decoder kDecoders[] = {
    {"nf4", decode_bnb},
    {"fp4", decode_bnb},
    {"fp8", decode_fp8},
    {"gse", decode_blocks},
    {"mxint8", decode_blocks},
    {"mxfp8", decode_blocks},
    {"mxfp6", decode_blocks},
    {"mxfp4-gptoss", decode_gptoss},  // before "mxfp4", which would take it as its prefix
    {"mxfp4", decode_blocks},
    {"qeft", decode_qeft},
    {"owq-3", decode_owq3},  // before "owq", which would take them as its prefix
    {"owq-4", decode_owq4},
    {"owq", decode_owq_unknown},
};

}  // namespace lowbit::io::model::detail
