// The NF4/FP4 reference codec and bitsandbytes' double quantization: plain scalar code to be read
// beside docs/formats/nf4.md. Every profile of formats/nf4.hpp, bit for bit.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/nf4.hpp"
#include "lowbit/reference/torch_ops.hpp"

namespace lowbit::ref {

// ---- 4-bit blockwise codec (the kernel signature of formats/nf4.hpp) ---------------------------------

void nf4_quantize_ref(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p);
void nf4_dequantize_ref(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                        const nf4::Params* p);


// The code of element i (0..n-1) of a packed array.
inline std::uint8_t nf4_code_at(const std::uint8_t* packed, std::size_t i) {
  return (i % 2 == 0) ? packed[i / 2] >> 4 : packed[i / 2] & 0x0F;
}

// ---- double quantization --------------------------------------------------------------------------

// bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8) as torch's CPU
// kernels compute it: `lanes`-wide float vectors in torch.linspace (8 for AVX2 and for the default
// build's 32-byte vectors, 16 for AVX-512), its per-index formula fused (FMA) or not. The golden
// map (torch 1.13, ATen AVX2) is lanes = 8, fused = true; lanes 8 unfused is the default
// capability's (12 entries differ), lanes 16 fused AVX-512's (28 differ). See
// docs/formats/nf4.md section 6; readers must use a stored map instead of regenerating it.
nf4::DynamicMap bnb_dynamic_map(int lanes = 8, bool fused = true);

// True if every entry is finite, in [-1, 1] and the map is non-decreasing (what every nested
// quantizer's search assumes).
bool valid_dynamic_map(std::span<const float, 256> map);


// 8-bit codes of a (blocks of nf4::kNestedBlock) into `map` with the profile's nested quantizer:
// codes a.size(), nested_absmax ceil(a.size() / 256).
void nf4_nested_quantize(std::span<const float> a, nf4::Nested q, std::span<const float, 256> map,
                         std::span<std::uint8_t> codes, std::span<float> nested_absmax);

// offset = given, else torch_mean_f32(absmax); codes and nested absmax of fl(absmax - offset)
// in blocks of nf4::kNestedBlock; the result holds a copy of `map`.
nf4::DoubleQuantized nf4_double_quantize(std::span<const float> absmax, nf4::Nested q, std::span<const float, 256> map,
                                         std::optional<float> offset = std::nullopt);

// absmax[i] = fl(fl(map[codes[i]] * nested_absmax[i / 256]) + offset): two fp32 roundings.
void nf4_double_dequantize(std::span<const std::uint8_t> codes, std::span<const float> nested_absmax, float offset,
                           std::span<const float, 256> map, std::span<float> absmax);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const nf4::Impl nf4_reference;
}  // namespace lowbit::kernels
