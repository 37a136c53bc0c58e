// docs/examples/readme.cpp: the README's first look at the library.
#include <vector>

#include "lowbit/lowbit.hpp"  // CMake: target_link_libraries(app PRIVATE lowbit::lowbit)

int main() {
  const std::vector<float> x = {0.5f, -3.25f, 1e-3f, 100.0f};

  lowbit::fp8::Options o;             // E4M3, profile ml_dtypes, round to nearest even
  o.rounding = lowbit::Rounding::sr;  // stochastic: Philox-4x32-10 keyed by o.seed
  const std::vector<std::uint8_t> codes = lowbit::fp8::encode(std::span<const float>(x), o);  // throws lowbit::Error

  lowbit::gse::Options g;  // INT8, groups of 32, 5-bit shared exponent, rne
  const lowbit::gse::Encoded e = lowbit::gse::encode(std::span<const float>(x), g);  // codes, exponents, stats

  const std::vector<float> y = lowbit::nf4::quantize(x);  // NF4 in blocks of 64: encode then decode
  return codes.size() == x.size() && e.exps.size() == 1 && y[3] == 100.0f ? 0 : 1;
}
