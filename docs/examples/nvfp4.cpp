// docs/examples/nvfp4.cpp: NVFP4 (E2M1 elements, an E4M3 scale per 16, the tensor's amax) as TransformerEngine computes it.
#include <cstdio>
#include <vector>

#include "lowbit/nvfp4.hpp"

int main() {
  std::vector<float> x(64 * 32);  // 64 rows of 32
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.5f;
  lowbit::nvfp4::Options o;
  o.cols = 32;
  o.layout = lowbit::nvfp4::ScaleLayout::swizzled;  // default: linear; blocking 1x16, rounding rne
  const lowbit::nvfp4::Encoded e = lowbit::nvfp4::encode(x, o);  // 2048 codes, 128 x 4 scales, amax 0.5
  const std::vector<float> y = lowbit::nvfp4::decode(e, o);
  std::printf("%zu codes, %zu scales, amax %g, x[5] = %g -> %g\n", e.codes.size(), e.scales.size(), e.global_amax, x[5], y[5]);
  return y == lowbit::nvfp4::quantize(x, o) && e.scales.size() == 128 * 4 ? 0 : 1;
}
