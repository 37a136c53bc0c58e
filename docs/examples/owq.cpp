// docs/examples/owq.cpp: a 3-bit OWQ layer, its codes, and the weight each kernel path computes with.
#include <cmath>
#include <cstdio>
#include <vector>

#include "lowbit/owq.hpp"

int main() {
  const std::size_t oc = 32, ic = 128, tokens = 16;
  std::vector<float> w(oc * ic), acts(tokens * ic);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::sin(2.3f * static_cast<float>(i));
  for (std::size_t i = 0; i < acts.size(); ++i) acts[i] = std::cos(0.7f * static_cast<float>(i)) * (i % ic == 5 ? 30 : 1);
  const std::vector<std::int32_t> weak = lowbit::owq::topk(lowbit::owq::sensitivity(tokens, ic, acts), 4);

  lowbit::owq::Options o;  // 4 bits per output channel, asymmetric, mse with a grid of 100
  o.bits = 3;
  const lowbit::owq::Packed p = lowbit::owq::encode(oc, ic, w, weak, o);
  const std::vector<std::uint8_t> codes = lowbit::owq::unpack(oc, ic, p.qweight, o);  // 0..7, oc x ic

  o.path = lowbit::owq::Path::fp32;  // main.py's fp32 dequantization kernel
  const std::vector<float> wq = lowbit::owq::decode(p, o);
  bool weak_kept = true;  // weak columns keep their fp16 value in place (11 significant bits)
  for (std::size_t r = 0; r < oc; ++r)
    for (std::int32_t c : weak) {
      const std::size_t i = r * ic + static_cast<std::size_t>(c);
      weak_kept &= std::fabs(wq[i] - w[i]) <= std::fabs(w[i]) * 0x1p-11f;
    }
  std::printf("weak column %d, %zu codes\n", weak[0], codes.size());
  return weak_kept && lowbit::owq::pack(oc, ic, codes, o) == p.qweight && weak[0] == 5 ? 0 : 1;
}
