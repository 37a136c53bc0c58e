#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::conformance {

GseCases gse_gen_cases(const gse::Format& f, Level level, std::uint64_t seed, std::size_t random) {
  if (const auto e = validate(f)) throw std::runtime_error(*e);
  check_gen(level, random);
  using K = GseCaseClass;
  const int n = f.group, b = f.bits, m = f.max_mantissa();
  GseCases c;
  auto push = [&](std::uint32_t x, K k) {
    c.inputs.push_back(x);
    c.classes.push_back(static_cast<std::uint8_t>(k));
  };
  auto step = [&](int e) { return std::ldexp(1.0f, e - (b - 2)); };
  auto tie = [&](int e, int j) {  // (k + 1/2) steps, k in 0 .. M-1, alternating signs in pairs
    const int k = (j * 5 + e + 1000) % m;
    return f32_bits((static_cast<float>(k) + 0.5f) * step(e)) | ((j / 2) % 2 ? kF32Sign : 0u);
  };
  auto tie_group = [&](int e, std::uint32_t first, K k, int len) {
    push(first, k);
    for (int j = 1; j < len; ++j) push(tie(e, j), k);
  };
  const int lo = std::max(f.emin() - 1, -126), hi = std::min(f.emax() + 1, 127);
  for (int e = lo; e <= hi; ++e) {
    const float s = step(e);
    push(f32_bits(static_cast<float>(m) * s), K::exact);  // the largest mantissa
    for (int j = 1; j < n; ++j)
      push(f32_bits(static_cast<float>((j * 7 + e + 1000) % (m + 1)) * s) | (j % 2 ? kF32Sign : 0u), K::exact);
    tie_group(e, f32_bits(std::ldexp(1.0f, e)), K::tie, n);
    push(f32_bits(std::ldexp(1.0f, e)), K::near_tie);
    for (int j = 1; j < n; ++j) {
      const std::uint32_t t = tie(e, j);
      push(j % 2 ? t + 1 : t - 1, K::near_tie);  // one ulp above / below the tie in magnitude
    }
    const std::uint32_t over = f32_bits((static_cast<float>(m) + 0.5f) * s);
    tie_group(e, over, K::mantissa_overflow, n);
    tie_group(e, over - 1, K::mantissa_overflow, n);
    tie_group(e, over + 1, K::mantissa_overflow, n);
    tie_group(e, f32_bits(std::ldexp(1.0f, e + 1)) - 1, K::mantissa_overflow, n);  // just below 2^(e+1)
  }
  // Exponents well outside the field, the largest and smallest f32 normals.
  for (int e : {f.emin() - 4, f.emin() - 2, f.emax() + 2, f.emax() + 4})
    if (e >= -126 && e <= 127) tie_group(e, f32_bits(std::ldexp(1.0f, e)), K::exp_range, n);
  tie_group(127, f32_bits(std::numeric_limits<float>::max()), K::exp_range, n);
  tie_group(-126, f32_bits(std::numeric_limits<float>::min()), K::exp_range, n);
  // Specials: zeros, -0, NaN (quiet, signalling), +-Inf within a group, f32 subnormals only.
  for (int j = 0; j < n; ++j) push(0u, K::special);
  for (int j = 0; j < n; ++j) push(kF32Sign, K::special);
  const int e0 = std::clamp(0, f.emin(), f.emax());
  for (std::uint32_t special : {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7F800000u, 0xFF800000u}) {
    for (int j = 0; j < n; ++j) push(j == 3 ? special : tie(e0, j), K::special);
  }
  for (int j = 0; j < n; ++j) push((static_cast<std::uint32_t>(j) * 0x12345u + 1u) % 0x00800000u | (j % 2 ? kF32Sign : 0u), K::special);
  if (level == Level::quick) {
    SplitMix64 rng{seed};
    const std::size_t groups = (random + n - 1) / n;
    for (std::size_t g = 0; g < groups; ++g) {
      const int e = lo + static_cast<int>(rng.next() % static_cast<unsigned>(hi - lo + 1));
      for (int j = 0; j < n; ++j) {
        const std::uint64_t r = rng.next();
        const int ej = std::max(1, e + 127 - static_cast<int>(r % static_cast<unsigned>(b + 2)));
        push((static_cast<std::uint32_t>(r >> 8) & 0x807FFFFFu) | (static_cast<std::uint32_t>(ej) << 23), K::random);
      }
    }
  }
  tie_group(e0, f32_bits(std::ldexp(1.0f, e0)), K::tail, n / 2 + 1);  // the short last group
  return c;
}

GenSummary gen_gse(const GseGenOptions& o, const std::string& dir) {
  const gse::Format& f = o.format;
  const GseCases cases = gse_gen_cases(f, o.level, o.seed, o.random);
  const std::size_t n = cases.inputs.size(), groups = f.groups(n);
  std::vector<float> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(groups), exp_classes(groups);
  std::vector<std::uint32_t> amax(groups, 0);
  const gse::EncodeParams p{f, o.rounding, o.seed, 0, nullptr};
  BlockStats stats;
  ref::gse_encode_ref<float>(n, in.data(), codes.data(), exps.data(), &p, &stats);
  std::vector<float> out(n);
  ref::gse_decode_ref<float>(n, codes.data(), exps.data(), out.data(), &f);
  std::vector<std::uint32_t> decoded(n);
  for (std::size_t i = 0; i < n; ++i) {
    decoded[i] = f32_bits(out[i]);
    const std::size_t g = i / static_cast<std::size_t>(f.group);
    amax[g] = std::max(amax[g], cases.inputs[i] & ~kF32Sign);
    if (i % static_cast<std::size_t>(f.group) == 0) exp_classes[g] = cases.classes[i];
  }

  GoldenWriter w(dir, o.container);
  w.put("inputs", io::npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  w.put("expected_codes", io::npy::make_array("|i1", codes), "element codes (two's complement)");
  w.put("expected_exps", io::npy::make_array("|u1", exps), "exponent field per group");
  w.put("classes", io::npy::make_array("|u1", cases.classes), "case class index per element");
  w.put("exp_inputs", io::npy::make_array("<u4", amax), "largest |x| per group (f32 bits)");
  w.put("exp_classes", io::npy::make_array("|u1", exp_classes), "case class index per group");
  w.put("decode_expected", io::npy::make_array("<u4", decoded), "f32 decoding of the expected codes and exponents");
  const std::vector<std::string> names(std::begin(kGseCaseClassNames), std::end(kGseCaseClassNames));
  w.test({"codes", "f32 -> gse codes", "inputs", "expected_codes", "classes", names, "twos-complement", "codes"});
  w.test({"exps", "f32 -> gse exponent fields", "exp_inputs", "expected_exps", "exp_classes", names, "unsigned",
          "exponent steps"});
  w.test({"decode", "gse -> f32", "expected_codes", "decode_expected", "classes", names, "sign-magnitude", "f32 ulps"});
  return w.write({
      {"kind", "gse"},
      {"format", "gse"},
      {"gse", gse_json(f)},
      {"rounding", name(o.rounding)},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
      {"sr", "with rounding sr: Philox-4x32-10 keyed by seed, counter = element index in inputs"},
      {"stats", {{"groups", stats.groups}, {"nan_groups", stats.nan_groups}, {"exp_underflow", stats.exp_underflow},
                 {"exp_overflow", stats.exp_overflow}, {"bumped", stats.bumped}, {"saturated", stats.saturated}}},
  });
}

nlohmann::json gse_json(const gse::Format& f) {
  return {{"bits", f.bits}, {"group", f.group}, {"exp_bits", f.exp_bits}, {"exp_bias", f.exp_bias},
          {"exp_offset", f.exp_offset},
          {"mantissa_overflow", f.mantissa_overflow == gse::MantissaOverflow::saturate ? "saturate" : "bump"},
          {"exponent_overflow", f.exponent_overflow == gse::ExponentOverflow::saturate ? "saturate" : "nan"}};
}

}  // namespace lowbit::conformance
