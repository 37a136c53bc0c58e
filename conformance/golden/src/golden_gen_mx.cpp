#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "golden_case_list.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/reference/mx.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::conformance {
namespace {

// The element magnitudes 0 .. max normal with the scale 2^0, ascending.
std::vector<float> element_values(const mx::Traits& t) {
  std::vector<float> v;
  for (unsigned c = 0; c <= t.max_code; ++c)
    v.push_back(t.format == mx::Format::int8 ? static_cast<float>(c) / 64 : ref::mx_element_value(t, static_cast<std::uint8_t>(c)));
  return v;
}

// The largest f32 below 2^e, e in -126 .. 128 (FLT_MAX for 128).
std::uint32_t below_pow2(int e) { return (static_cast<std::uint32_t>(e + 127) << 23) - 1; }

std::uint8_t decode_class(const mx::Traits& t, std::uint8_t code) {  // kFp8DecodeClassNames
  const std::uint8_t mag = t.format == mx::Format::int8 ? static_cast<std::uint8_t>(std::abs(static_cast<std::int8_t>(code)))
                                                       : code & (mx::sign_bit(t) - 1u);
  if (mag == 0) return 0;
  if (mag == t.max_code) return 3;
  return t.format != mx::Format::int8 && (mag >> t.element.man_bits) == 0 ? 1 : 2;
}

std::string code_order(const mx::Traits& t) {
  if (t.format == mx::Format::int8) return "twos-complement";
  const int w = t.element.total_bits();
  return w == 8 ? "sign-magnitude" : fmt::format("sign-magnitude-{}", w);
}

}  // namespace

std::string_view mx_rounding_name(Rounding r) {
  switch (r) {
    case Rounding::rna: return "nearest";
    case Rounding::rne: return "even";
    case Rounding::rtz: return "floor";
    default: return name(r);
  }
}

Fp8Cases mx_element_cases(mx::Format f, Level level, std::uint64_t seed, std::size_t random) {
  check_gen(level, random);
  if (f == mx::Format::int8) throw std::runtime_error("mxint8 elements are GSE codes: no element conversions");
  const mx::Traits& t = traits(f);
  const std::vector<float> v = element_values(t);
  using K = Fp8CaseClass;
  CaseList<K> l;
  for (std::size_t c = 0; c < v.size(); ++c) {  // every magnitude, the tie to the next, a ulp either side
    l.both(v[c], K::exact);
    if (c + 1 == v.size()) break;
    const float mid = (v[c] + v[c + 1]) / 2;  // exact: few significant bits
    l.both(mid, K::tie);
    l.near(mid, K::near_tie);
  }
  // Saturation: around the tie above max normal, the next grid value, powers of two up to FLT_MAX.
  const float max = v.back(), beyond = 2 * max - v[v.size() - 2], over_tie = (max + beyond) / 2;
  for (float x : {over_tie, beyond}) {
    l.both(x, K::overflow);
    l.near(x, K::overflow);
  }
  for (int e = std::ilogb(beyond) + 1; e <= 127; ++e) {
    l.both(std::ldexp(1.0f, e), K::overflow);
    if (e < 127) l.both(std::ldexp(1.5f, e), K::overflow);
  }
  l.both(std::numeric_limits<float>::max(), K::overflow);
  for (int e = std::ilogb(v[1]) - 2; e >= -126; --e) {  // below half the smallest subnormal
    l.both(std::ldexp(1.0f, e), K::underflow);
    l.both(std::ldexp(1.5f, e), K::underflow);
  }
  l.near(v[1] / 4, K::underflow);
  l.both(0.0f, K::special);  // NaN and Inf make the block's scale NaN: block cases
  for (std::uint32_t s : {0x00000001u, 0x00000003u, 0x00155555u, 0x00400000u, 0x007FFFFFu}) l.both(s, K::f32_subnormal);
  if (level == Level::quick) {
    SplitMix64 rng{seed};
    const int span = t.emax - t.element.emin() + t.element.man_bits + 6;  // the element range and a margin
    for (std::size_t i = 0; i < random; ++i) {
      auto b = static_cast<std::uint32_t>(rng.next());
      if (i % 2) {
        const int e = 127 + t.element.emin() - t.element.man_bits - 3 + static_cast<int>(rng.next() % static_cast<unsigned>(span));
        b = (b & ~0x7F800000u) | (static_cast<std::uint32_t>(e) << 23);
      } else if ((b & 0x7F800000u) == 0x7F800000u) {
        b &= ~0x40000000u;  // finite only
      }
      l.add(b, K::random);
    }
  }
  return std::move(l.c);
}

Fp8Cases mx_block_cases(mx::Format f, Level level, std::uint64_t seed, std::size_t random) {
  check_gen(level, random);
  const mx::Traits& t = traits(f);
  const std::vector<float> v = element_values(t);
  std::vector<float> mids;
  for (std::size_t k = 0; k + 1 < v.size(); ++k) mids.push_back((v[k] + v[k + 1]) / 2);
  const float max = v.back(), over = (max + 2 * max - v[v.size() - 2]) / 2;  // rounds past max normal
  const int n = mx::kBlock;
  using K = MxCaseClass;
  CaseList<K> l;
  auto tie = [&](int X, int j) {  // alternating signs in pairs
    const float m = mids[static_cast<std::size_t>(j * 5 + X + 1000) % mids.size()];
    return f32_bits(std::ldexp(m, X)) | ((j / 2) % 2 ? kF32Sign : 0u);
  };
  auto tie_block = [&](int X, std::uint32_t lead, K k, int len) {
    l.add(lead, k);
    for (int j = 1; j < len; ++j) l.add(tie(X, j), k);
  };
  // Each block's leader lies in [2^emax, 2^(emax+1)) x 2^X, so that the block's scale is 2^X.
  for (int X = -127; X <= 127 - t.emax; ++X) {
    const std::uint32_t lead = f32_bits(std::ldexp(max, X));
    l.add(lead, K::exact);
    for (int j = 1; j < n; ++j)
      l.add(f32_bits(std::ldexp(v[static_cast<std::size_t>(j * 7 + X + 1000) % v.size()], X)) | (j % 2 ? kF32Sign : 0u), K::exact);
    tie_block(X, lead, K::tie, n);
    l.add(lead, K::near_tie);
    for (int j = 1; j < n; ++j) l.add(j % 2 ? tie(X, j) + 1 : tie(X, j) - 1, K::near_tie);  // magnitude +-1 ulp
    const std::uint32_t o = f32_bits(std::ldexp(over, X));
    for (std::uint32_t first : {o, o - 1, o + 1, below_pow2(t.emax + 1 + X)}) tie_block(X, first, K::overflow, n);
  }
  // Largest magnitudes whose exponent E < emax - 127: the scale is clamped at 2^-127.
  for (int E = -127; E <= t.emax - 128; ++E) {
    const std::uint32_t lead = E == -127 ? 0x007FFFFFu : f32_bits(std::ldexp(1.0f, E));
    const float v_lead = std::ldexp(std::bit_cast<float>(lead), 127);
    const auto below = static_cast<std::size_t>(std::upper_bound(mids.begin(), mids.end(), v_lead) - mids.begin());
    l.add(lead, K::scale_min);
    for (int j = 1; j < n; ++j)
      l.add(f32_bits(std::ldexp(mids[static_cast<std::size_t>(j * 5) % below], -127)) | ((j / 2) % 2 ? kF32Sign : 0u), K::scale_min);
  }
  for (int j = 0; j < n; ++j) l.add((static_cast<std::uint32_t>(j) * 0x12345u + 1u) % 0x00800000u | (j % 2 ? kF32Sign : 0u), K::scale_min);
  // Specials: zeros, -0 (both +0 codes, scale 2^-127), NaN / Inf anywhere in a block (scale NaN).
  for (int j = 0; j < n; ++j) l.add(0u, K::special);
  for (int j = 0; j < n; ++j) l.add(kF32Sign, K::special);
  for (std::uint32_t s : {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7F800000u, 0xFF800000u})
    for (int j = 0; j < n; ++j) l.add(j == 3 ? s : tie(0, j), K::special);
  for (int j = 0; j < n; ++j) l.add(j == n - 1 ? 0x7FC00000u : tie(0, j), K::special);
  if (level == Level::quick) {
    SplitMix64 rng{seed};
    const int span = t.format == mx::Format::int8 ? 10 : t.emax - t.element.emin() + t.element.man_bits + 3;
    for (std::size_t b = 0; b < (random + n - 1) / n; ++b) {
      const int e = -126 + static_cast<int>(rng.next() % 254);
      for (int j = 0; j < n; ++j) {
        const std::uint64_t r = rng.next();
        const int ej = std::max(1, e + 127 - static_cast<int>(r % static_cast<unsigned>(span)));
        l.add((static_cast<std::uint32_t>(r >> 8) & 0x807FFFFFu) | (static_cast<std::uint32_t>(ej) << 23), K::random);
      }
    }
  }
  tie_block(0, f32_bits(max), K::tail, n / 2 + 1);  // the short last block
  return std::move(l.c);
}

GenSummary gen_mx(const MxGenOptions& o, const std::string& dir) {
  const mx::Traits& t = traits(o.format);
  const bool is_int = o.format == mx::Format::int8;
  const std::string fname(t.name), order = code_order(t), code_descr = is_int ? "|i1" : "|u1";
  const Fp8Cases cases = mx_block_cases(o.format, o.level, o.seed, o.random);
  const std::size_t n = cases.inputs.size(), blocks = (n + mx::kBlock - 1) / mx::kBlock;
  std::vector<float> in(n), out(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::uint8_t> codes(n), scales(blocks), scale_classes(blocks);
  BlockStats stats;
  const mx::EncodeParams ep{o.format, o.rounding, o.seed, 0};
  ref::mx_encode_ref(n, in.data(), codes.data(), scales.data(), &ep, &stats);
  const mx::DecodeParams dp{o.format};
  ref::mx_decode_ref(n, codes.data(), scales.data(), out.data(), &dp);
  std::vector<std::uint32_t> amax(blocks, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t m = cases.inputs[i] & ~kF32Sign;  // NaN or Inf: shown as NaN, the scale it gets
    amax[i / mx::kBlock] = std::max(amax[i / mx::kBlock], m >= 0x7F800000u ? 0x7FC00000u : m);
    if (i % mx::kBlock == 0) scale_classes[i / mx::kBlock] = cases.classes[i];
  }

  GoldenWriter w(dir, o.container);
  w.put("inputs", io::npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns, blocks of 32, the last short");
  w.put("expected_codes", io::npy::make_array(code_descr, codes), fname + " element codes, one a byte");
  w.put("classes", io::npy::make_array("|u1", cases.classes), "case class index per element");
  w.put("expected_scales", io::npy::make_array("|u1", scales), "E8M0 scale per block (0xFF: NaN)");
  w.put("scale_inputs", io::npy::make_array("<u4", amax), "largest |x| per block (f32 bits; NaN if NaN or Inf)");
  w.put("scale_classes", io::npy::make_array("|u1", scale_classes), "case class index per block");
  w.put("decode_expected", io::npy::make_array("<u4", f32_bits(out)), "f32 decoding of the expected codes and scales");
  const std::vector<std::string> names(std::begin(kMxCaseClassNames), std::end(kMxCaseClassNames));
  w.test({"codes", "f32 -> " + fname + " element codes", "inputs", "expected_codes", "classes", names, order, "codes"});
  w.test({"scales", "f32 -> E8M0 scale per block", "scale_inputs", "expected_scales", "scale_classes", names, "unsigned",
          "scale steps"});
  w.test({"decode", fname + " -> f32", "expected_codes", "decode_expected", "classes", names, "sign-magnitude", "f32 ulps"});

  // Element conversions with the scale 2^0 (minifloats), and the decoding of every code an encoder writes.
  if (!is_int) {
    const Fp8Cases e = mx_element_cases(o.format, o.level, o.seed, o.random);
    std::vector<std::uint8_t> ecodes(e.inputs.size());
    for (std::size_t i = 0; i < e.inputs.size(); ++i)
      ecodes[i] = ref::mx_element_code(t, std::bit_cast<float>(e.inputs[i]), 0, o.rounding,
                                       o.rounding == Rounding::sr ? ref::philox_word(o.seed, i) : 0);
    w.put("elem_inputs", io::npy::make_array("<u4", e.inputs), "f32 inputs as bit patterns");
    w.put("elem_expected", io::npy::make_array("|u1", ecodes), fname + " element codes with the scale 2^0");
    w.put("elem_classes", io::npy::make_array("|u1", e.classes), "case class index");
    w.test({"elements", "f32 -> " + fname + " element (scale 2^0)", "elem_inputs", "elem_expected", "elem_classes",
            {std::begin(kFp8CaseClassNames), std::end(kFp8CaseClassNames)}, order, "codes"});
  }
  std::vector<std::uint8_t> dcodes;
  for (unsigned c = 0; c <= t.max_code; ++c) dcodes.push_back(static_cast<std::uint8_t>(c));
  for (unsigned c = 0; c <= t.max_code; ++c)
    dcodes.push_back(is_int ? static_cast<std::uint8_t>(-static_cast<int>(c)) : static_cast<std::uint8_t>(c | mx::sign_bit(t)));
  if (is_int) dcodes.erase(dcodes.begin() + t.max_code + 1);  // -0 is 0 in two's complement
  std::vector<float> dout(dcodes.size());
  const std::vector<std::uint8_t> unit(dcodes.size() / mx::kBlock + 1, 127);  // scale 2^0
  const mx::DecodeParams unit_p{o.format};
  ref::mx_decode_ref(dcodes.size(), dcodes.data(), unit.data(), dout.data(), &unit_p);
  std::vector<std::uint8_t> dclasses;
  for (std::uint8_t c : dcodes) dclasses.push_back(decode_class(t, c));
  w.put("elem_decode_inputs", io::npy::make_array(code_descr, dcodes), fname + " element codes");
  w.put("elem_decode_expected", io::npy::make_array("<u4", f32_bits(dout)), "f32 values with the scale 2^0 (bits)");
  w.put("elem_decode_classes", io::npy::make_array("|u1", dclasses), "case class index");
  w.test({"element_decode", fname + " element -> f32 (scale 2^0)", "elem_decode_inputs", "elem_decode_expected",
          "elem_decode_classes", {std::begin(kFp8DecodeClassNames), std::end(kFp8DecodeClassNames)}, "sign-magnitude",
          "f32 ulps"});
  return w.write({
      {"kind", "mx"},
      {"format", fname},
      {"block", mx::kBlock},
      {"rounding", std::string(mx_rounding_name(o.rounding))},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
      {"sr", "with rounding sr: Philox-4x32-10 keyed by seed, counter = element index in inputs / elem_inputs"},
      {"stats", {{"blocks", stats.groups}, {"nan_blocks", stats.nan_groups}, {"saturated", stats.saturated}}},
  });
}

}  // namespace lowbit::conformance
