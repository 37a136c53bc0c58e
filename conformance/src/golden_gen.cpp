#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/npy.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/reference/fp8.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/nf4.hpp"

namespace lowbit::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint32_t kSign = 0x80000000u;

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

const Fp8Profile& profile_or_throw(std::string_view name) {
  const Fp8Profile* p = find_fp8_profile(name);
  if (!p) throw std::runtime_error(fmt::format("unknown FP8 profile '{}'", name));
  return *p;
}

struct CaseList {
  Fp8Cases c;
  void add(std::uint32_t b, Fp8CaseClass k) {
    c.inputs.push_back(b);
    c.classes.push_back(static_cast<std::uint8_t>(k));
  }
  void both(std::uint32_t b, Fp8CaseClass k) {  // +x and -x
    add(b & ~kSign, k);
    add(b | kSign, k);
  }
  void both(float x, Fp8CaseClass k) { both(bits(x), k); }
  void near(float x, Fp8CaseClass k) {  // one f32 ulp either side of x > 0
    both(bits(x) - 1, k);
    both(bits(x) + 1, k);
  }
};

std::uint8_t decode_class(Fp8Format f, std::uint8_t code) {
  const Fp8Traits& t = traits(f);
  const std::uint8_t mag = code & 0x7F;
  if (is_nan(f, code)) return 5;
  if (t.has_inf && mag == t.inf) return 4;
  if (mag == 0) return 0;
  if (mag == t.max_finite) return 3;
  if ((mag >> t.layout.man_bits) == 0) return 1;
  return 2;
}

std::string sha_of(const std::vector<std::uint8_t>& b) { return sha256_hex(b); }

}  // namespace

Fp8Cases fp8_gen_cases(Fp8Format f, int level, std::uint64_t seed, std::size_t random) {
  if (level != 1 && level != 2) throw std::runtime_error(fmt::format("level must be 1 or 2, not {}", level));
  const Fp8Traits& t = traits(f);
  const Fp8DecodeParams dp = make_decode_params(f, default_fp8_profile());
  auto value = [&](unsigned mag) { return ref::fp8_decode<float>(static_cast<std::uint8_t>(mag), dp); };
  CaseList l;
  using K = Fp8CaseClass;

  // Every finite magnitude, the tie to the next one and one f32 ulp either side of the tie.
  for (unsigned c = 0; c <= t.max_finite; ++c) {
    const float v = value(c);
    l.both(v, K::exact);
    if (c == t.max_finite) break;
    const float mid = (v + value(c + 1)) / 2;  // exact: FP8 values have few significant bits
    l.both(mid, K::tie);
    l.near(mid, K::near_tie);
  }
  // Overflow: around the tie between max finite and the value one step beyond, that value, then
  // larger powers of two (and 1.5x) up to FLT_MAX.
  const float max = value(t.max_finite), beyond = 2 * max - value(t.max_finite - 1u);
  const float over_tie = (max + beyond) / 2;
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

  if (level == 2) {
    SplitMix64 rng{seed};
    const int bias = (1 << (t.layout.exp_bits - 1)) - 1;
    const int span = 2 * bias + t.layout.man_bits + 8;  // the format's exponents and a margin
    for (std::size_t i = 0; i < random; ++i) {
      auto b = static_cast<std::uint32_t>(rng.next());
      if (i % 2) {
        const int e = 127 - bias - t.layout.man_bits - 3 + static_cast<int>(rng.next() % static_cast<unsigned>(span));
        b = (b & ~0x7F800000u) | (static_cast<std::uint32_t>(e) << 23);
      }
      l.add(b, K::random);
    }
  }
  return std::move(l.c);
}

GenSummary gen_fp8(const Fp8GenOptions& o, const std::string& dir) {
  const Fp8Profile& prof = profile_or_throw(o.profile);
  const Fp8Cases cases = fp8_gen_cases(o.format, o.level, o.seed, o.random);
  const std::size_t n = cases.inputs.size();

  std::vector<float> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::uint8_t> expected(n);
  const Fp8EncodeParams ep = make_encode_params(o.format, prof, FloatType::f32, o.rounding, o.seed);
  ref::fp8_encode_ref<float>(n, in.data(), expected.data(), &ep);

  std::vector<std::uint8_t> codes(256), dclasses(256);
  std::vector<std::uint32_t> decoded(256);
  const Fp8DecodeParams dp = make_decode_params(o.format, prof);
  for (unsigned c = 0; c < 256; ++c) {
    codes[c] = static_cast<std::uint8_t>(c);
    decoded[c] = bits(ref::fp8_decode<float>(codes[c], dp));
    dclasses[c] = decode_class(o.format, codes[c]);
  }

  fs::create_directories(dir);
  GenSummary s;
  s.cases = n;
  json files = json::object();
  auto put = [&](const std::string& name, const npy::Array& a, std::string_view meaning) {
    const std::vector<std::uint8_t> b = npy::serialize(a);
    npy::write_bytes((fs::path(dir) / name).string(), b);
    s.sha256[name] = sha_of(b);
    files[name] = {{"sha256", s.sha256[name]}, {"bytes", b.size()}, {"dtype", a.descr}, {"shape", a.shape},
                   {"meaning", meaning}};
  };
  const std::string fname(traits(o.format).name);
  put("inputs.npy", npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  put("expected.npy", npy::make_array("|u1", expected), fname + " codes (bit patterns)");
  put("classes.npy", npy::make_array("|u1", cases.classes), "case class index");
  put("decode_inputs.npy", npy::make_array("|u1", codes), fname + " codes (bit patterns)");
  put("decode_expected.npy", npy::make_array("<u4", decoded), "f32 outputs as bit patterns");
  put("decode_classes.npy", npy::make_array("|u1", dclasses), "case class index");

  auto counts = [](const std::vector<std::uint8_t>& cls, const auto& names) {
    json c = json::object();
    for (std::string_view nm : names) c[std::string(nm)] = 0;
    for (std::uint8_t k : cls) c[std::string(names[k])] = c[std::string(names[k])].get<std::uint64_t>() + 1;
    return c;
  };
  json encode_counts = counts(cases.classes, kFp8CaseClassNames);
  for (auto& [k, v] : encode_counts.items()) s.counts[k] = v.get<std::uint64_t>();
  std::vector<std::string> enc_names(std::begin(kFp8CaseClassNames), std::end(kFp8CaseClassNames));
  std::vector<std::string> dec_names(std::begin(kFp8DecodeClassNames), std::end(kFp8DecodeClassNames));

  json m = {
      {"lowbit_version", kLowbitVersion},
      {"kind", "fp8"},
      {"format", fname},
      {"profile", prof.name},
      {"rounding", name(o.rounding)},
      {"seed", o.seed},
      {"level", o.level},
      {"random", o.level == 2 ? o.random : 0},
      {"sr", "with rounding sr: Philox-4x32-10 keyed by seed, counter = element index in inputs.npy"},
      {"tests",
       json::array({
           {{"name", "encode"}, {"operation", fmt::format("f32 -> {}", fname)}, {"inputs", "inputs.npy"},
            {"input_format", "f32"}, {"expected", "expected.npy"}, {"output_format", fname}, {"order", "sign-magnitude"}, {"distance_unit", "codes"},
            {"classes", "classes.npy"}, {"class_names", enc_names}, {"count", n}, {"counts", encode_counts}},
           {{"name", "decode"}, {"operation", fmt::format("{} -> f32", fname)}, {"inputs", "decode_inputs.npy"},
            {"input_format", fname}, {"expected", "decode_expected.npy"}, {"output_format", "f32"},
            {"order", "sign-magnitude"}, {"distance_unit", "f32 ulps"}, {"classes", "decode_classes.npy"}, {"class_names", dec_names}, {"count", 256},
            {"counts", counts(dclasses, kFp8DecodeClassNames)}},
       })},
      {"files", files},
  };
  std::ofstream out(fs::path(dir) / "manifest.json", std::ios::trunc);
  out << m.dump(2) << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write " + (fs::path(dir) / "manifest.json").string());
  return s;
}

GseCases gse_gen_cases(const GseFormat& f, int level, std::uint64_t seed, std::size_t random) {
  if (const auto e = validate(f)) throw std::runtime_error(*e);
  if (level != 1 && level != 2) throw std::runtime_error(fmt::format("level must be 1 or 2, not {}", level));
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
    return bits((static_cast<float>(k) + 0.5f) * step(e)) | ((j / 2) % 2 ? kSign : 0u);
  };
  auto tie_group = [&](int e, std::uint32_t first, K k, int len) {
    push(first, k);
    for (int j = 1; j < len; ++j) push(tie(e, j), k);
  };
  const int lo = std::max(f.emin() - 1, -126), hi = std::min(f.emax() + 1, 127);
  for (int e = lo; e <= hi; ++e) {
    const float s = step(e);
    push(bits(static_cast<float>(m) * s), K::exact);  // the largest mantissa
    for (int j = 1; j < n; ++j)
      push(bits(static_cast<float>((j * 7 + e + 1000) % (m + 1)) * s) | (j % 2 ? kSign : 0u), K::exact);
    tie_group(e, bits(std::ldexp(1.0f, e)), K::tie, n);
    push(bits(std::ldexp(1.0f, e)), K::near_tie);
    for (int j = 1; j < n; ++j) {
      const std::uint32_t t = tie(e, j);
      push(j % 2 ? t + 1 : t - 1, K::near_tie);  // one ulp above / below the tie in magnitude
    }
    const std::uint32_t over = bits((static_cast<float>(m) + 0.5f) * s);
    tie_group(e, over, K::mantissa_overflow, n);
    tie_group(e, over - 1, K::mantissa_overflow, n);
    tie_group(e, over + 1, K::mantissa_overflow, n);
    tie_group(e, bits(std::ldexp(1.0f, e + 1)) - 1, K::mantissa_overflow, n);  // just below 2^(e+1)
  }
  // Exponents well outside the field, the largest and smallest f32 normals.
  for (int e : {f.emin() - 4, f.emin() - 2, f.emax() + 2, f.emax() + 4})
    if (e >= -126 && e <= 127) tie_group(e, bits(std::ldexp(1.0f, e)), K::exp_range, n);
  tie_group(127, bits(std::numeric_limits<float>::max()), K::exp_range, n);
  tie_group(-126, bits(std::numeric_limits<float>::min()), K::exp_range, n);
  // Specials: zeros, -0, NaN (quiet, signalling), +-Inf within a group, f32 subnormals only.
  for (int j = 0; j < n; ++j) push(0u, K::special);
  for (int j = 0; j < n; ++j) push(kSign, K::special);
  const int e0 = std::clamp(0, f.emin(), f.emax());
  for (std::uint32_t special : {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7F800000u, 0xFF800000u}) {
    for (int j = 0; j < n; ++j) push(j == 3 ? special : tie(e0, j), K::special);
  }
  for (int j = 0; j < n; ++j) push((static_cast<std::uint32_t>(j) * 0x12345u + 1u) % 0x00800000u | (j % 2 ? kSign : 0u), K::special);
  if (level == 2) {
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
  tie_group(e0, bits(std::ldexp(1.0f, e0)), K::tail, n / 2 + 1);  // the short last group
  return c;
}

GenSummary gen_gse(const GseGenOptions& o, const std::string& dir) {
  const GseFormat& f = o.format;
  const GseCases cases = gse_gen_cases(f, o.level, o.seed, o.random);
  const std::size_t n = cases.inputs.size(), groups = f.groups(n);
  std::vector<float> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(groups), exp_classes(groups);
  std::vector<std::uint32_t> amax(groups, 0);
  const GseEncodeParams p{f, o.rounding, o.seed, 0, nullptr};
  BlockStats stats;
  ref::gse_encode_ref<float>(n, in.data(), codes.data(), exps.data(), &p, &stats);
  std::vector<float> out(n);
  ref::gse_decode_ref<float>(n, codes.data(), exps.data(), out.data(), &f);
  std::vector<std::uint32_t> decoded(n);
  for (std::size_t i = 0; i < n; ++i) {
    decoded[i] = bits(out[i]);
    const std::size_t g = i / static_cast<std::size_t>(f.group);
    amax[g] = std::max(amax[g], cases.inputs[i] & ~kSign);
    if (i % static_cast<std::size_t>(f.group) == 0) exp_classes[g] = cases.classes[i];
  }

  fs::create_directories(dir);
  GenSummary s;
  s.cases = n;
  json files = json::object();
  auto put = [&](const std::string& name, const npy::Array& a, std::string_view meaning) {
    const std::vector<std::uint8_t> bytes = npy::serialize(a);
    npy::write_bytes((fs::path(dir) / name).string(), bytes);
    s.sha256[name] = sha256_hex(bytes);
    files[name] = {{"sha256", s.sha256[name]}, {"bytes", bytes.size()}, {"dtype", a.descr}, {"shape", a.shape},
                   {"meaning", meaning}};
  };
  put("inputs.npy", npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  put("expected_codes.npy", npy::make_array("|i1", codes), "element codes (two's complement)");
  put("expected_exps.npy", npy::make_array("|u1", exps), "exponent field per group");
  put("classes.npy", npy::make_array("|u1", cases.classes), "case class index per element");
  put("exp_inputs.npy", npy::make_array("<u4", amax), "largest |x| per group (f32 bits)");
  put("exp_classes.npy", npy::make_array("|u1", exp_classes), "case class index per group");
  put("decode_expected.npy", npy::make_array("<u4", decoded), "f32 decoding of the expected codes and exponents");

  json counts = json::object();
  for (std::string_view nm : kGseCaseClassNames) counts[std::string(nm)] = 0;
  for (std::uint8_t k : cases.classes) {
    const std::string nm(kGseCaseClassNames[k]);
    counts[nm] = counts[nm].get<std::uint64_t>() + 1;
  }
  for (auto& [k, v] : counts.items()) s.counts[k] = v.get<std::uint64_t>();
  const std::vector<std::string> names(std::begin(kGseCaseClassNames), std::end(kGseCaseClassNames));
  json m = {
      {"lowbit_version", kLowbitVersion},
      {"kind", "gse"},
      {"format", "gse"},
      {"gse", {{"bits", f.bits}, {"group", f.group}, {"exp_bits", f.exp_bits}, {"exp_bias", f.exp_bias},
               {"exp_offset", f.exp_offset},
               {"mantissa_overflow", f.mantissa_overflow == MantissaOverflow::saturate ? "saturate" : "bump"},
               {"exponent_overflow", f.exponent_overflow == ExponentOverflow::saturate ? "saturate" : "nan"}}},
      {"rounding", name(o.rounding)},
      {"seed", o.seed},
      {"level", o.level},
      {"random", o.level == 2 ? o.random : 0},
      {"sr", "with rounding sr: Philox-4x32-10 keyed by seed, counter = element index in inputs.npy"},
      {"stats", {{"groups", stats.groups}, {"nan_groups", stats.nan_groups}, {"exp_underflow", stats.exp_underflow},
                 {"exp_overflow", stats.exp_overflow}, {"bumped", stats.bumped}, {"saturated", stats.saturated}}},
      {"tests",
       json::array({
           {{"name", "codes"}, {"operation", "f32 -> gse codes"}, {"inputs", "inputs.npy"}, {"expected", "expected_codes.npy"},
            {"classes", "classes.npy"}, {"class_names", names}, {"order", "twos-complement"}, {"distance_unit", "codes"},
            {"count", n}, {"counts", counts}},
           {{"name", "exps"}, {"operation", "f32 -> gse exponent fields"}, {"inputs", "exp_inputs.npy"},
            {"expected", "expected_exps.npy"}, {"classes", "exp_classes.npy"}, {"class_names", names},
            {"order", "unsigned"}, {"distance_unit", "exponent steps"}, {"count", groups}},
           {{"name", "decode"}, {"operation", "gse -> f32"}, {"inputs", "expected_codes.npy"},
            {"expected", "decode_expected.npy"}, {"classes", "classes.npy"}, {"class_names", names},
            {"order", "sign-magnitude"}, {"distance_unit", "f32 ulps"}, {"count", n}},
       })},
      {"files", files},
  };
  std::ofstream mf(fs::path(dir) / "manifest.json", std::ios::trunc);
  mf << m.dump(2) << '\n';
  if (!mf.flush()) throw std::runtime_error("cannot write " + (fs::path(dir) / "manifest.json").string());
  return s;
}

Fp8Cases nf4_gen_cases(const Nf4GenOptions& o) {
  if (!valid_nf4_block(o.block)) throw std::runtime_error(fmt::format("block must be a power of two in 32..4096, not {}", o.block));
  if (o.level != 1 && o.level != 2) throw std::runtime_error(fmt::format("level must be 1 or 2, not {}", o.level));
  using K = Nf4CaseClass;
  const int n = o.block;
  std::vector<float> sorted;
  for (unsigned c = 0; c < 16; ++c) sorted.push_back(table_value(o.table, c));
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<float> mids;
  for (std::size_t k = 0; k + 1 < sorted.size(); ++k) mids.push_back((sorted[k] + sorted[k + 1]) / 2);
  Fp8Cases c;
  auto push = [&](std::uint32_t x, K k) {
    c.inputs.push_back(x);
    c.classes.push_back(static_cast<std::uint8_t>(k));
  };
  auto tie = [&](float a, int j) { return bits(mids[static_cast<std::size_t>(j) % mids.size()] * a); };
  auto tie_block = [&](float a, K k, int len) {
    push(bits(a), k);
    for (int j = 1; j < len; ++j) push(tie(a, j), k);
  };
  std::vector<float> scales;
  for (int e : {-126, -100, -60, -20, -10, -1, 0, 1, 10, 20, 60, 100, 127}) scales.push_back(std::ldexp(1.0f, e));
  for (float a : {1.7f, 3.3e-3f, 12345.678f}) scales.push_back(a);
  for (float a : scales) {
    push(bits(a), K::exact);
    for (int j = 1; j < n; ++j) push(bits(sorted[static_cast<std::size_t>(j * 3) % sorted.size()] * a), K::exact);
    tie_block(a, K::tie, n);
    push(bits(a), K::near_tie);
    for (int j = 1; j < n; ++j) {
      const std::uint32_t t = tie(a, j);
      push((t & ~kSign) == 0 ? t : (j % 2 ? t + 1 : t - 1), K::near_tie);
    }
  }
  for (int j = 0; j < n; ++j) push(0u, K::special);
  for (int j = 0; j < n; ++j) push(kSign, K::special);
  for (std::uint32_t special : {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7F800000u, 0xFF800000u})
    for (int j = 0; j < n; ++j) push(j == 3 ? special : tie(1.0f, j), K::special);
  for (int j = 0; j < n; ++j) push((static_cast<std::uint32_t>(j) * 0x12345u + 1u) % 0x00800000u | (j % 2 ? kSign : 0u), K::special);
  if (o.level == 2) {
    SplitMix64 rng{o.seed};
    const std::size_t blocks = (o.random + n - 1) / n;
    for (std::size_t b = 0; b < blocks; ++b) {
      const float a = std::ldexp(1.0f + static_cast<float>(rng.next() >> 41) * 0x1p-23f, static_cast<int>(rng.next() % 61) - 30);
      for (int j = 0; j < n; ++j) {
        const float u = static_cast<float>(rng.next() >> 40) * 0x1p-24f;  // [0, 1)
        push(bits(a * (2 * u - 1)), K::random);
      }
    }
  }
  tie_block(1.0f, K::tail, n / 2 + 1);
  return c;
}

GenSummary gen_nf4(const Nf4GenOptions& o, const std::string& dir) {
  const Nf4Profile* prof = find_nf4_profile(o.profile);
  if (!prof) throw std::runtime_error(fmt::format("unknown NF4 profile '{}'", o.profile));
  const Fp8Cases cases = nf4_gen_cases(o);
  const std::size_t n = cases.inputs.size(), blocks = nf4_blocks(n, o.block), bytes = nf4_packed_bytes(n);
  std::vector<float> in(n), absmax(blocks), out(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::uint8_t> packed(bytes), codes(n), packed_classes(bytes), absmax_classes(blocks);
  const Nf4Params p = make_nf4_params(o.table, *prof, o.block);
  ref::nf4_quantize_ref(n, in.data(), packed.data(), absmax.data(), &p);
  ref::nf4_dequantize_ref(n, packed.data(), absmax.data(), out.data(), &p);
  std::vector<std::uint32_t> decoded(n), absmax_bits(blocks), amax(blocks, 0);
  for (std::size_t i = 0; i < n; ++i) {
    codes[i] = ref::nf4_code_at(packed.data(), i);
    decoded[i] = bits(out[i]);
    const std::size_t b = i / static_cast<std::size_t>(o.block);
    amax[b] = std::max(amax[b], cases.inputs[i] & ~kSign);
    if (i % 2 == 0) packed_classes[i / 2] = cases.classes[i];
    if (i % static_cast<std::size_t>(o.block) == 0) absmax_classes[b] = cases.classes[i];
  }
  for (std::size_t b = 0; b < blocks; ++b) absmax_bits[b] = bits(absmax[b]);

  fs::create_directories(dir);
  GenSummary s;
  s.cases = n;
  json files = json::object();
  auto put = [&](const std::string& name, const npy::Array& a, std::string_view meaning) {
    const std::vector<std::uint8_t> b = npy::serialize(a);
    npy::write_bytes((fs::path(dir) / name).string(), b);
    s.sha256[name] = sha256_hex(b);
    files[name] = {{"sha256", s.sha256[name]}, {"bytes", b.size()}, {"dtype", a.descr}, {"shape", a.shape},
                   {"meaning", meaning}};
  };
  const std::string fname(name(o.table));
  put("inputs.npy", npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  put("expected_packed.npy", npy::make_array("|u1", packed), "packed codes, element 2i in the high nibble");
  put("expected_codes.npy", npy::make_array("|u1", codes), "one 4-bit code per element");
  put("expected_absmax.npy", npy::make_array("<u4", absmax_bits), "absmax per block (f32 bits)");
  put("classes.npy", npy::make_array("|u1", cases.classes), "case class index per element");
  std::vector<std::uint32_t> packed_inputs(bytes);
  for (std::size_t k = 0; k < bytes; ++k) packed_inputs[k] = cases.inputs[2 * k];
  put("packed_inputs.npy", npy::make_array("<u4", packed_inputs), "f32 input of element 2i per packed byte (f32 bits)");
  put("packed_classes.npy", npy::make_array("|u1", packed_classes), "case class index per packed byte");
  put("absmax_inputs.npy", npy::make_array("<u4", amax), "largest |x| per block (f32 bits)");
  put("absmax_classes.npy", npy::make_array("|u1", absmax_classes), "case class index per block");
  put("decode_expected.npy", npy::make_array("<u4", decoded), "dequantized f32 as bit patterns");
  json counts = json::object();
  for (std::string_view nm : kNf4CaseClassNames) counts[std::string(nm)] = 0;
  for (std::uint8_t k : cases.classes) {
    const std::string nm(kNf4CaseClassNames[k]);
    counts[nm] = counts[nm].get<std::uint64_t>() + 1;
  }
  for (auto& [k, v] : counts.items()) s.counts[k] = v.get<std::uint64_t>();
  const std::vector<std::string> names(std::begin(kNf4CaseClassNames), std::end(kNf4CaseClassNames));
  auto test = [&](const char* nm, const char* op, const char* inputs, const char* expected, const char* classes,
                  const char* order, const char* unit, std::size_t count) {
    return json{{"name", nm}, {"operation", op}, {"inputs", inputs}, {"expected", expected}, {"classes", classes},
                {"class_names", names}, {"order", order}, {"distance_unit", unit}, {"count", count}};
  };
  json m = {
      {"lowbit_version", kLowbitVersion},
      {"kind", "nf4"},
      {"format", fname},
      {"profile", prof->name},
      {"block", o.block},
      {"double_quant", false},
      {"rounding", "nearest"},
      {"seed", o.seed},
      {"level", o.level},
      {"random", o.level == 2 ? o.random : 0},
      {"counts", counts},
      {"tests", json::array({
                    test("codes", "f32 -> 4-bit codes", "inputs.npy", "expected_codes.npy", "classes.npy", "unsigned",
                         "codes", n),
                    test("packed", "f32 -> packed bytes", "packed_inputs.npy", "expected_packed.npy", "packed_classes.npy",
                         "unsigned", "packed bytes", bytes),
                    test("absmax", "f32 -> absmax per block", "absmax_inputs.npy", "expected_absmax.npy",
                         "absmax_classes.npy", "sign-magnitude", "f32 ulps", blocks),
                    test("decode", "packed + absmax -> f32", "expected_codes.npy", "decode_expected.npy", "classes.npy",
                         "sign-magnitude", "f32 ulps", n),
                })},
      {"files", files},
  };
  std::ofstream mf(fs::path(dir) / "manifest.json", std::ios::trunc);
  mf << m.dump(2) << '\n';
  if (!mf.flush()) throw std::runtime_error("cannot write " + (fs::path(dir) / "manifest.json").string());
  return s;
}

namespace {

std::uint64_t element(const npy::Array& a, std::size_t i) {
  const unsigned w = npy::find_dtype(a.descr)->size;
  std::uint64_t v = 0;
  for (unsigned k = 0; k < w; ++k) v |= std::uint64_t{a.bytes[i * w + k]} << (8 * k);
  return v;
}

std::uint64_t bucket(std::uint64_t d) { return d <= 16 ? d : std::bit_ceil(d); }

}  // namespace

namespace {

VerifyResult verify_manifest(const fs::path& g, const json& m, const std::string& actual, std::size_t max_errors) {
  const std::string kind = m.is_object() ? m.value("kind", "") : "";
  if (kind != "fp8" && kind != "gse" && kind != "nf4") throw std::runtime_error("golden manifest.json is not one lowbit gen wrote");
  // Integrity: every golden file is the one the manifest describes.
  for (auto& [name, f] : m.at("files").items()) {
    const std::vector<std::uint8_t> b = npy::read_bytes((g / name).string());
    if (sha256_hex(b) != f.at("sha256").get<std::string>())
      throw std::runtime_error(fmt::format("golden file {} does not match its SHA-256 in manifest.json", name));
  }

  VerifyResult r;
  r.kind = kind;
  r.format = m.at("format").get<std::string>();
  r.profile = m.value("profile", "");
  r.rounding = m.at("rounding").get<std::string>();
  const bool actual_is_dir = fs::is_directory(actual);
  std::vector<std::string> units;
  for (const json& t : m.at("tests")) {
    const std::string expected_name = t.at("expected").get<std::string>();
    const npy::Array want = npy::read((g / expected_name).string());
    npy::Array got;
    if (actual_is_dir) {
      const fs::path p = fs::path(actual) / expected_name;
      if (!fs::exists(p)) continue;
      got = npy::read(p.string());
    } else {
      if (!units.empty()) break;  // a single file: the first test whose outputs have its dtype
      got = npy::read(actual);
      if (got.descr != want.descr || got.size() != want.size()) continue;
    }
    const std::string test = t.at("name").get<std::string>();
    if (got.descr != want.descr || got.size() != want.size())
      throw std::runtime_error(fmt::format("actual {}: {} values of {}, expected {} values of {}", test, got.size(),
                                           got.descr, want.size(), want.descr));
    const npy::Array in = npy::read((g / t.at("inputs").get<std::string>()).string());
    const npy::Array cls = npy::read((g / t.at("classes").get<std::string>()).string());
    const auto names = t.at("class_names").get<std::vector<std::string>>();
    if (in.size() != want.size() || cls.size() != want.size() || cls.descr != "|u1")
      throw std::runtime_error("golden " + test + ": inputs, classes and expected outputs differ in size");
    const unsigned in_w = npy::find_dtype(in.descr)->size, out_w = npy::find_dtype(want.descr)->size;
    const std::string order = t.value("order", "sign-magnitude");
    auto ordinal = [&](std::uint64_t v) -> std::int64_t {
      if (order == "twos-complement") {
        const unsigned shift = 64 - 8 * out_w;
        return static_cast<std::int64_t>(v << shift) >> shift;
      }
      if (order == "unsigned") return static_cast<std::int64_t>(v);
      return sign_magnitude_ordinal(v, 8 * out_w);
    };
    units.push_back(fmt::format("{}: {}", test, t.value("distance_unit", "codes")));
    for (std::size_t i = 0; i < want.size(); ++i) {
      const std::uint8_t k = cls.bytes[i];
      if (k >= names.size()) throw std::runtime_error("golden " + test + ": class index out of range");
      ClassCount& cc = r.classes[test + " " + names[k]];
      ++cc.tests;
      ++r.tests;
      const std::uint64_t a = element(got, i), e = element(want, i);
      if (a == e) continue;
      ++cc.errors;
      const std::int64_t d = ordinal(a) - ordinal(e);
      ++r.distance[bucket(static_cast<std::uint64_t>(d < 0 ? -d : d))];
      if (r.errors++ < max_errors)
        r.first_errors.push_back(fmt::format("{} inputs 0x{:0{}x} => got 0x{:0{}x} expected 0x{:0{}x} (class {})", test,
                                             element(in, i), 2 * in_w, a, 2 * out_w, e, 2 * out_w, names[k]));
    }
  }
  if (units.empty())
    throw std::runtime_error(actual_is_dir ? "actual directory holds none of the golden expected*.npy names"
                                           : "actual file matches no golden output in dtype and size");
  r.distance_unit = units[0];
  for (std::size_t k = 1; k < units.size(); ++k) r.distance_unit += "; " + units[k];
  return r;
}

}  // namespace

VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  const fs::path g(golden_dir);
  json m;
  {
    std::ifstream in(g / "manifest.json");
    if (!in) throw std::runtime_error("cannot open " + (g / "manifest.json").string());
    try {
      m = json::parse(in);
    } catch (const json::exception& e) {
      throw std::runtime_error((g / "manifest.json").string() + ": " + e.what());
    }
  }
  try {
    return verify_manifest(g, m, actual, max_errors);
  } catch (const json::exception& e) {
    throw std::runtime_error((g / "manifest.json").string() + ": " + e.what());
  }
}

VerifyResult verify_fp8(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  VerifyResult r = verify_golden(golden_dir, actual, max_errors);
  if (r.kind != "fp8") throw std::runtime_error("golden manifest is not an FP8 one");
  return r;
}

std::string verify_text(const VerifyResult& r) {
  std::string s;
  if (r.errors) {
    s += r.profile.empty() ? fmt::format("Errors found in {} (rounding {}):\n", r.format, r.rounding)
                           : fmt::format("Errors found in {} (profile {}, rounding {}):\n", r.format, r.profile, r.rounding);
    for (const std::string& e : r.first_errors) s += e + "\n";
    if (r.errors > r.first_errors.size()) s += fmt::format("... and {} more\n", r.errors - r.first_errors.size());
    s += "errors per class:\n";
    for (const auto& [k, c] : r.classes)
      s += fmt::format("  {:<24} {:>8} errors in {:>8} tests\n", k, c.errors, c.tests);
    s += fmt::format("distance histogram ({}):\n", r.distance_unit);
    for (const auto& [b, n] : r.distance)
      s += b <= 16 ? fmt::format("  {:>21}: {}\n", b, n) : fmt::format("  {:>21}: {}\n", fmt::format("{}-{}", b / 2 + 1, b), n);
    s += fmt::format("{} tests, {} errors found\n", r.tests, r.errors);
  } else {
    s += fmt::format("{} tests, no errors found\n", r.tests);
  }
  return s;
}

std::string verify_json(const VerifyResult& r) {
  json classes = json::object();
  for (const auto& [k, c] : r.classes) classes[k] = {{"tests", c.tests}, {"errors", c.errors}};
  json dist = json::array();
  for (const auto& [b, n] : r.distance)
    dist.push_back({{"distance", b <= 16 ? std::to_string(b) : fmt::format("{}-{}", b / 2 + 1, b)}, {"count", n}});
  const json j = {{"format", r.format},         {"profile", r.profile},     {"rounding", r.rounding},
                  {"tests", r.tests},           {"errors", r.errors},       {"passed", r.passed()},
                  {"first_errors", r.first_errors}, {"classes", classes}, {"distance_unit", r.distance_unit},
                  {"distance", dist}};
  return j.dump();
}

}  // namespace lowbit::conformance
