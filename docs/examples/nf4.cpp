// docs/examples/nf4.cpp: NF4 bit for bit as bitsandbytes on a CPU, with QLoRA's double quantization.
#include <cmath>
#include <cstdio>
#include <vector>

#include "lowbit/nf4.hpp"

int main() {
  std::vector<float> w(4096);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.02f * std::sin(0.37f * static_cast<float>(i));
  lowbit::nf4::Options o;                          // NF4, blocks of 64, profile "lowbit" (exact nearest)
  o.profile = lowbit::nf4::profile("bnb-cpu");     // bitsandbytes 0.50 on an x86-64 CPU
  const lowbit::nf4::Encoded e = lowbit::nf4::encode(w, o);  // 2048 bytes of codes, 64 fp32 absmax

  // Double quantization: the 64 absmax as 8-bit codes of (absmax - mean), one fp32 scale per 256.
  const lowbit::nf4::DoubleQuantized dq = lowbit::nf4::double_quantize(e.absmax, o);
  const std::vector<float> absmax = lowbit::nf4::double_dequantize(dq);
  const std::vector<float> y = lowbit::nf4::decode(e.packed, absmax, w.size(), o);
  std::printf("offset %g, %zu codes, w[1] = %g -> %g\n", dq.offset, dq.codes.size(), w[1], y[1]);

  bool close = true;  // the 8-bit absmax codes move each scale by well under 1%
  for (std::size_t b = 0; b < absmax.size(); ++b) close &= std::fabs(absmax[b] - e.absmax[b]) <= 0.01f * e.absmax[b];
  return close && lowbit::nf4::decode(e.packed, e.absmax, w.size(), o) == lowbit::nf4::quantize(w, o) ? 0 : 1;
}
