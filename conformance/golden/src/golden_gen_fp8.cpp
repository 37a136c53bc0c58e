#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "golden_case_list.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit::conformance {
namespace {

using nlohmann::json;

std::uint8_t decode_class(fp8::Format f, std::uint8_t code) {
  const fp8::Traits& t = traits(f);
  const std::uint8_t mag = code & t.all_ones();
  if (is_nan(f, code)) return 5;
  if (t.has_inf() && mag == t.inf()) return 4;
  if (mag == t.max_finite()) return 3;
  if (t.layout.man_bits == 0 || (mag >> t.layout.man_bits) != 0) return 2;  // E8M0's code 0 is 2^-127
  return mag == 0 ? 0 : 1;
}

}  // namespace

Fp8Cases fp8_gen_cases(fp8::Format f, Level level, std::uint64_t seed, std::size_t random) {
  check_gen(level, random);
  const fp8::Traits& t = traits(f);
  const fp8::DecodeParams dp = fp8::decode_params(f, fp8::default_profile(f));
  auto value = [&](unsigned mag) { return ref::fp8_decode<float>(static_cast<std::uint8_t>(mag), dp); };
  CaseList<Fp8CaseClass> l;
  using K = Fp8CaseClass;

  // Every finite magnitude, the tie to the next one and one f32 ulp either side of the tie.
  for (unsigned c = 0; c <= t.max_finite(); ++c) {
    const float v = value(c);
    l.both(v, K::exact);
    if (c == t.max_finite()) break;
    const float mid = (v + value(c + 1)) / 2;  // exact: FP8 values have few significant bits
    l.both(mid, K::tie);
    l.near(mid, K::near_tie);
  }
  // Overflow: around the tie between max finite and the value one step beyond, that value, then
  // larger powers of two (and 1.5x) up to FLT_MAX.
  // In double: E8M0's 2 max is beyond f32.
  const double max = value(t.max_finite());
  const auto beyond = static_cast<float>(2 * max - value(t.max_finite() - 1u));
  const auto over_tie = static_cast<float>((max + beyond) / 2);
  l.both(over_tie, K::overflow);
  l.near(over_tie, K::overflow);
  l.both(beyond, K::overflow);
  l.near(beyond, K::overflow);
  for (int e = std::ilogb(beyond) + 1; e <= 127; ++e) {
    l.both(std::ldexp(1.0f, e), K::overflow);
    if (e < 127) l.both(std::ldexp(1.5f, e), K::overflow);
  }
  l.both(std::numeric_limits<float>::max(), K::overflow);
  // Underflow: below half the smallest subnormal, down to the smallest f32 normal.
  const float min_sub = value(1);
  for (int e = std::ilogb(min_sub) - 2; e >= -126; --e) {
    l.both(std::ldexp(1.0f, e), K::underflow);
    l.both(std::ldexp(1.5f, e), K::underflow);
  }
  l.near(min_sub / 4, K::underflow);
  // Specials: zeros, infinities, NaNs (quiet, signalling, payloads in each mantissa bit position).
  l.both(0x00000000u, K::special);
  l.both(0x7F800000u, K::special);
  for (std::uint32_t nan : {0x7FC00000u, 0x7FC00001u, 0x7FE00000u, 0x7FFFFFFFu, 0x7F800001u, 0x7FA00000u,
                            0x7FBFFFFFu, 0x7F900000u, 0x7F800100u, 0x7FD55555u, 0x7FAAAAAAu})
    l.both(nan, K::special);
  // f32 subnormals.
  for (std::uint32_t s : {0x00000001u, 0x00000002u, 0x00000003u, 0x00000100u, 0x00155555u, 0x002AAAAAu,
                          0x003FFFFFu, 0x00400000u, 0x00400001u, 0x007FFFFEu, 0x007FFFFFu})
    l.both(s, K::f32_subnormal);

  if (level == Level::quick) {
    SplitMix64 rng{seed};
    const int bias = t.layout.bias();
    const int span = 2 * bias + t.layout.man_bits + 8;  // the format's exponents and a margin
    for (std::size_t i = 0; i < random; ++i) {
      auto b = static_cast<std::uint32_t>(rng.next());
      if (i % 2) {
        const int e = std::clamp(127 - bias - t.layout.man_bits - 3 + static_cast<int>(rng.next() % static_cast<unsigned>(span)), 0, 255);
        b = (b & ~0x7F800000u) | (static_cast<std::uint32_t>(e) << 23);
      }
      l.add(b, K::random);
    }
  }
  return std::move(l.c);
}

GenSummary gen_fp8(const Fp8GenOptions& o, const std::string& dir) {
  const fp8::Profile& prof = fp8::profile_for(o.profile.empty() ? fp8::default_profile() : fp8::profile(o.profile), o.format);
  const Fp8Cases cases = fp8_gen_cases(o.format, o.level, o.seed, o.random);
  const std::size_t n = cases.inputs.size();

  std::vector<float> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::uint8_t> expected(n);
  const fp8::EncodeParams ep = fp8::encode_params(o.format, prof, FloatType::f32, o.rounding, o.seed);
  ref::fp8_encode_ref<float>(n, in.data(), expected.data(), &ep);

  const unsigned ncodes = traits(o.format).codes();  // 2^width: no code has bits above the width
  std::vector<std::uint8_t> codes(ncodes), dclasses(ncodes);
  std::vector<std::uint32_t> decoded(ncodes);
  const fp8::DecodeParams dp = fp8::decode_params(o.format, prof);
  for (unsigned c = 0; c < ncodes; ++c) {
    codes[c] = static_cast<std::uint8_t>(c);
    decoded[c] = f32_bits(ref::fp8_decode<float>(codes[c], dp));
    dclasses[c] = decode_class(o.format, codes[c]);
  }

  const std::string fname(traits(o.format).name);
  GoldenWriter w(dir, o.container);
  w.put("inputs", io::npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  w.put("expected", io::npy::make_array("|u1", expected), fname + " codes (bit patterns)");
  w.put("classes", io::npy::make_array("|u1", cases.classes), "case class index");
  w.put("decode_inputs", io::npy::make_array("|u1", codes), fname + " codes (bit patterns)");
  w.put("decode_expected", io::npy::make_array("<u4", decoded), "f32 outputs as bit patterns");
  w.put("decode_classes", io::npy::make_array("|u1", dclasses), "case class index");
  w.test({"encode", fmt::format("f32 -> {}", fname), "inputs", "expected", "classes",
          {std::begin(kFp8CaseClassNames), std::end(kFp8CaseClassNames)}, "sign-magnitude", "codes",
          {{"input_format", "f32"}, {"output_format", fname}}});
  w.test({"decode", fmt::format("{} -> f32", fname), "decode_inputs", "decode_expected", "decode_classes",
          {std::begin(kFp8DecodeClassNames), std::end(kFp8DecodeClassNames)}, "sign-magnitude", "f32 ulps",
          {{"input_format", fname}, {"output_format", "f32"}}});
  return w.write({
      {"kind", "fp8"},
      {"format", fname},
      {"profile", prof.name},
      {"rounding", name(o.rounding)},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
      {"sr", "with rounding sr: Philox-4x32-10 keyed by seed, counter = element index in inputs"},
  });
}

}  // namespace lowbit::conformance
