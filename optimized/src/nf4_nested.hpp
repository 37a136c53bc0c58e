// The lowbit profile's nested quantizer (nf4::Nested::exact_nearest_even), fast: the same codes and
// nested absmax as the reference's exact Boost search, bit for bit.
#pragma once
#include <cstdint>
#include <span>

namespace lowbit::detail {

// Codes and nested absmax of fl(absmax[i] - offset) in blocks of kNestedBlock (sizes checked by the
// caller; map valid_dynamic_map()).
void nf4_nested_exact_nearest_even(std::span<const float> absmax, float offset, std::span<const float, 256> map,
                               std::span<std::uint8_t> codes, std::span<float> nested_absmax);

}  // namespace lowbit::detail
