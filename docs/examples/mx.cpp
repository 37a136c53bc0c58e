// docs/examples/mx.cpp: OCP MXFP4 (E2M1 elements, an E8M0 scale per 32) as microxcaling computes it.
#include <cstdio>
#include <vector>

#include "lowbit/mx.hpp"

int main() {
  std::vector<float> x(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * static_cast<float>(i) - 4.0f;
  lowbit::mx::Options o;
  o.format = lowbit::mx::Format::fp4_e2m1;  // default: MXFP8 E4M3; rounding: rna, microxcaling's 'nearest'
  const lowbit::mx::Encoded e = lowbit::mx::encode(x, o);  // 64 codes, 2 scales
  const std::vector<float> y = lowbit::mx::decode(e.codes, e.scales, o);
  std::printf("%zu codes, %zu scales, x[5] = %g -> %g\n", e.codes.size(), e.scales.size(), x[5], y[5]);
  return y == lowbit::mx::quantize(x, o) && e.scales.size() == lowbit::mx::blocks(x.size()) ? 0 : 1;
}
