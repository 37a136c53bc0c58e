// The decoders of convert.hpp's formats, one per family (each in its convert_<family>.cpp with the
// family's Target): decode() picks the one whose name is the format or its prefix before a '-'
// ("nf4" decodes nf4 and nf4-dq).
#pragma once
#include <span>
#include <string_view>

#include "lowbit/io/convert.hpp"

namespace lowbit::io::model::detail {

using DecodeFn = Decoded (*)(std::span<const safetensors::Tensor> tensors, const Parallel& par);

Decoded decode_bnb(std::span<const safetensors::Tensor> tensors, const Parallel& par);
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
    {"qeft", decode_qeft},
    {"owq-3", decode_owq3},  // before "owq", which would take them as its prefix
    {"owq-4", decode_owq4},
    {"owq", decode_owq_unknown},
};

}  // namespace lowbit::io::model::detail
