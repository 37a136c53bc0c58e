#include "lowbit/conformance/cases.hpp"

namespace lowbit::conformance {
namespace {

template <class Bits>
std::vector<Bits> structured_then_random(int exp_bits, int man_bits, std::uint64_t seed,
                                         std::size_t random) {
  const Bits one = 1;
  std::vector<Bits> mantissas{0, static_cast<Bits>((one << man_bits) - 1)};
  for (int k = 1; k <= man_bits; ++k) {
    const Bits half = one << (k - 1);
    for (Bits low : {static_cast<Bits>(half - 1), half, static_cast<Bits>(half + 1)})
      for (Bits odd : {Bits{0}, static_cast<Bits>(k < man_bits ? one << k : 0)})
        mantissas.push_back(low | odd);
  }
  std::vector<Bits> out;
  for (Bits sign : {Bits{0}, static_cast<Bits>(one << (exp_bits + man_bits))})
    for (Bits e = 0; e < (one << exp_bits); ++e)
      for (Bits m : mantissas) out.push_back(sign | (e << man_bits) | m);

  SplitMix64 rng{seed};
  const int bias = (1 << (exp_bits - 1)) - 1;
  for (std::size_t i = 0; i < random; ++i) {
    Bits bits = static_cast<Bits>(rng.next());
    if (i % 2) {  // exponent within 2^-24 .. 2^17: the FP8 range and a margin on both sides
      const Bits e = static_cast<Bits>(bias - 24 + static_cast<int>(rng.next() % 42));
      bits = static_cast<Bits>((bits & ~(((one << exp_bits) - 1) << man_bits)) | (e << man_bits));
    }
    out.push_back(bits);
  }
  return out;
}

}  // namespace

std::vector<std::uint32_t> f32_cases(std::uint64_t seed, std::size_t random) {
  return structured_then_random<std::uint32_t>(8, 23, seed, random);
}
std::vector<std::uint64_t> f64_cases(std::uint64_t seed, std::size_t random) {
  return structured_then_random<std::uint64_t>(11, 52, seed, random);
}

}  // namespace lowbit::conformance
