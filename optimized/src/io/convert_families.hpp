// The decoders of convert.hpp's formats, one per family (each in its convert_<family>.cpp with the
// family's Target): decode() picks the one whose name is the format or its prefix before a '-'
// ("nf4" decodes nf4 and nf4-dq).
#pragma once
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

using DecodeFn = Decoded (*)(std::span<const safetensors::Tensor> tensors, const Parallel& par);

Decoded decode_bnb(std::span<const safetensors::Tensor> tensors, const Parallel& par);
Decoded decode_fp8(std::span<const safetensors::Tensor> tensors, const Parallel& par);
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
    {"qeft", decode_qeft},
    {"owq-3", decode_owq3},  // before "owq", which would take them as its prefix
    {"owq-4", decode_owq4},
    {"owq", decode_owq_unknown},
};

}  // namespace lowbit::io::model::detail
