// lowbit's public NF4/FP4 API (bitsandbytes' 4-bit blockwise formats): spans in, spans out, an
// options struct; the fastest kernel this CPU has, bit-identical to the reference. Double
// quantization of the absmax values is in lowbit/reference/nf4.hpp (scalar: it touches n/64 values).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "lowbit/error.hpp"
#include "lowbit/formats/nf4_kernel.hpp"

namespace lowbit::nf4 {

struct Options {
  FourBitTable table = FourBitTable::nf4;
  std::string_view profile = "lowbit";  // lowbit, bnb-cuda, bnb-cpu, bnb-torch
  int block = kNf4DefaultBlock;         // 32 .. 4096, a power of two
  const Nf4Impl* impl = nullptr;        // null: the best for this CPU
};

// packed.size() == (n+1)/2, absmax.size() == ceil(n / block).
void quantize(std::span<const float> in, std::span<std::uint8_t> packed, std::span<float> absmax, const Options& o = {});
void dequantize(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::span<float> out,
                const Options& o = {});

Nf4Params params(const Options& o);  // validated, or Error

}  // namespace lowbit::nf4
