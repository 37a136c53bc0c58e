// docs/examples/gse.cpp: GSE-INT8 codes, the bit-packed layout, and an integer GEMM on two operands.
#include <cmath>
#include <cstdio>
#include <vector>

#include "lowbit/gse.hpp"

int main() {
  std::vector<float> x(100);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.1f * static_cast<float>(i));
  lowbit::gse::Options o;  // INT8, groups of 32, 5-bit shared exponent, round to nearest even
  const lowbit::gse::Encoded e = lowbit::gse::encode(std::span<const float>(x), o);  // 100 codes, 4 exponents
  const std::vector<float> y = lowbit::gse::decode(e.codes, e.exps, o);
  std::printf("%llu groups, %llu saturated\n", static_cast<unsigned long long>(e.stats.groups),
              static_cast<unsigned long long>(e.stats.saturated));

  const std::vector<std::uint8_t> packed = lowbit::gse::pack(e.codes, e.exps, o.format);  // 8 + 5/32 bits a value
  const lowbit::gse::Encoded back = lowbit::gse::unpack(packed, x.size(), o.format);

  // C (2 x 3) = A (2 x 32) B^T, B 3 x 32: each operand's rows grouped along k.
  const std::size_t m = 2, n = 3, k = 32;
  const lowbit::gse::Encoded a = lowbit::gse::encode_rows(m, k, std::span<const float>(x).first(m * k), o);
  const lowbit::gse::Encoded b = lowbit::gse::encode_rows(n, k, std::span<const float>(x).last(n * k), o);
  const std::vector<float> c = lowbit::gse::gemm(m, n, k, {a.codes, a.exps, o.format}, {b.codes, b.exps, o.format});

  bool close = true;  // within half a step of each group's scale (2^-7 for |x| <= 1)
  for (std::size_t i = 0; i < x.size(); ++i) close &= std::fabs(x[i] - y[i]) <= 1.0f / 128;
  return close && back.codes == e.codes && back.exps == e.exps && c.size() == m * n ? 0 : 1;
}
