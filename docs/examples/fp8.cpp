// docs/examples/fp8.cpp: FP8 E4M3 with CUDA's saturating conversion.
#include <cstdio>
#include <vector>

#include "lowbit/fp8.hpp"

int main() {
  const std::vector<float> x = {0.1f, -1.5f, 300.0f, 1e6f};
  lowbit::fp8::Options o;                              // E4M3, ml_dtypes' semantics, round to nearest even
  o.profile = lowbit::fp8::profile("cuda-satfinite");  // out of range -> +-448, as __NV_SATFINITE
  const std::vector<std::uint8_t> codes = lowbit::fp8::encode(std::span<const float>(x), o);
  const std::vector<float> y = lowbit::fp8::decode(codes, o);  // every E4M3 value is exact in f32
  for (std::size_t i = 0; i < x.size(); ++i) std::printf("%g -> 0x%02x -> %g\n", x[i], codes[i], y[i]);

  std::vector<float> z = x;  // quantize = decode(encode), here in place
  lowbit::fp8::quantize(std::span<const float>(z), std::span(z), o);
  return z == y && y[3] == 448.0f ? 0 : 1;
}
