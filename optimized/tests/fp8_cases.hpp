// What the FP8 kernel tests and properties share: the profiles that apply to a format, and f32
// inputs biased to a format's rounding boundaries.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit::test {

inline std::vector<fp8::Profile> applicable_profiles(fp8::Format f) {
  std::vector<fp8::Profile> v;
  for (const fp8::Profile& p : fp8::kProfiles)
    if (applies(p, f)) v.push_back(p);
  return v;
}

// `n` f32 patterns within 3 ulps of a value of `f` or of the midpoint between two neighbours (its
// ties), random signs; every fourth one uniform over all bits. Midpoints are exact in f32: no
// format has more than 4 mantissa bits.
inline std::vector<std::uint32_t> boundary_f32(fp8::Format f, std::uint64_t seed, std::size_t n) {
  const fp8::Traits& t = traits(f);
  const fp8::DecodeParams d = fp8::decode_params(f, fp8::default_profile());
  const unsigned mags = t.all_ones() + 1u;
  conformance::SplitMix64 rng{seed};
  std::vector<std::uint32_t> v(n);
  for (std::uint32_t& x : v) {
    const std::uint64_t r = rng.next();
    if (r % 4 == 0) {
      x = static_cast<std::uint32_t>(r >> 32);
      continue;
    }
    const auto code = static_cast<std::uint8_t>((r >> 8) % (mags - 1));
    const float lo = ref::fp8_decode<float>(code, d), hi = ref::fp8_decode<float>(static_cast<std::uint8_t>(code + 1), d);
    const float base = (r >> 16) & 1 && std::isfinite(hi) && !std::isnan(hi) ? (lo + hi) / 2 : lo;
    const auto delta = static_cast<std::int32_t>((r >> 20) % 7) - 3;
    x = (std::bit_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(delta)) ^ (static_cast<std::uint32_t>(r >> 24) & 0x80000000u);
  }
  return v;
}

}  // namespace lowbit::test
