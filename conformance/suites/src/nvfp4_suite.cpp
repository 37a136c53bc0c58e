// The NVFP4 suite (block_suite.hpp): fixed vectors from docs/formats/nvfp4.md, random tensors against
// the reference, and for the reference itself its element and scale conversions against ml_dtypes'
// golden runs.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <random>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/nvfp4_cases.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/reference/nvfp4.hpp"

namespace lowbit::conformance {
namespace {

using nvfp4::Blocking;
using nvfp4::ScaleLayout;

constexpr std::string_view kProfile = "transformer-engine";

// A slot of `impl`, or the reference's where it leaves it out.
nvfp4::EncodeFn encode_fn(const nvfp4::Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : ref::nvfp4_encode_ref; }
nvfp4::DecodeFn decode_fn(const nvfp4::Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : ref::nvfp4_decode_ref; }

struct Coded {
  std::vector<std::uint8_t> codes, scales;
};

Coded encode(nvfp4::EncodeFn fn, const std::vector<float>& x, const nvfp4::EncodeParams& p) {
  Coded c{std::vector<std::uint8_t>(x.size()), std::vector<std::uint8_t>(nvfp4::scale_count(p.rows, p.cols, p.layout))};
  fn(x.data(), c.codes.data(), c.scales.data(), &p);
  return c;
}

std::vector<float> decode(nvfp4::DecodeFn fn, const Coded& c, const nvfp4::DecodeParams& p) {
  std::vector<float> y(c.codes.size());
  fn(c.codes.data(), c.scales.data(), y.data(), &p);
  return y;
}

bool same(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) || (std::isnan(a) && std::isnan(b)); }

// The first difference of an encode, "" if none: scales by index, codes by (row, column).
std::string encode_diff(const Coded& got, const Coded& want, const std::vector<float>& x, std::size_t cols) {
  for (std::size_t i = 0; i < want.scales.size(); ++i)
    if (got.scales[i] != want.scales[i]) return fmt::format("scale [{}] => 0x{:02x} expected 0x{:02x}", i, got.scales[i], want.scales[i]);
  for (std::size_t i = 0; i < want.codes.size(); ++i)
    if (got.codes[i] != want.codes[i])
      return fmt::format("element ({}, {}) (0x{:08x}) => code 0x{:x} expected 0x{:x}", i / cols, i % cols,
                         std::bit_cast<std::uint32_t>(x[i]), got.codes[i], want.codes[i]);
  return "";
}

std::string decode_diff(const std::vector<float>& got, const std::vector<float>& want, const Coded& c, std::size_t cols) {
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!same(got[i], want[i]))
      return fmt::format("decode of element ({}, {}) (code 0x{:x}) => {} expected {}", i / cols, i % cols, c.codes[i], got[i], want[i]);
  return "";
}

// ---- fixed vectors: docs/formats/nvfp4.md, sections 3, 5 and 7 (nvfp4_cases.cpp) -------------------------

void fixed_checks(const nvfp4::Impl& impl, const BlockSuiteOptions& o, std::vector<Check>& out) {
  const std::vector<Nvfp4Fixed> vectors = nvfp4_fixed_vectors();
  for (const Rounding r : {Rounding::rne, Rounding::sr}) {
    if (!o.has(r)) continue;
    run_check(out, {impl.name, "nvfp4", std::string(kProfile), fmt::format("fixed vectors {} -> docs/formats/nvfp4.md", name(r))},
              [&](Check& c) {
                for (const Nvfp4Fixed& f : vectors) {
                  if (f.rounding != r) continue;
                  const nvfp4::EncodeParams p{f.rows, f.cols, f.blocking, f.layout, r, f.amax, f.random.data()};
                  ++c.cases;
                  if (const std::string d = encode_diff(encode(encode_fn(impl), f.x, p), {f.codes, f.scales}, f.x, f.cols); !d.empty())
                    c.mismatch(fmt::format("{}: {}", f.name, d), o.max_errors);
                }
              });
  }
  run_check(out, {impl.name, "nvfp4", std::string(kProfile), "fixed vectors decode -> docs/formats/nvfp4.md"}, [&](Check& c) {
    for (const Nvfp4Fixed& f : vectors) {
      ++c.cases;
      const nvfp4::DecodeParams p{f.rows, f.cols, f.layout, f.amax};
      const Coded want{f.codes, f.scales};
      if (const std::string d = decode_diff(decode(decode_fn(impl), want, p), f.decoded, want, f.cols); !d.empty())
        c.mismatch(fmt::format("{}: {}", f.name, d), o.max_errors);
    }
  });
}

// ---- random tensors against the reference ----------------------------------------------------------------

void random_checks(const nvfp4::Impl& impl, const BlockSuiteOptions& o, std::vector<Check>& out) {
  std::vector<Rounding> roundings;
  for (const Rounding r : {Rounding::rne, Rounding::sr})
    if (o.has(r)) roundings.push_back(r);
  const std::vector<std::uint32_t> pool = f32_cases(o.seed, 1 << 12);
  for (const Blocking b : {Blocking::d1, Blocking::d2})
    for (const ScaleLayout l : {ScaleLayout::linear, ScaleLayout::swizzled}) {
      const std::string what = fmt::format("{} {}", name(b), name(l));
      run_check(out, {impl.name, "nvfp4", std::string(kProfile), fmt::format("random {} tensors encode+decode -> reference", what)},
                [&](Check& c) {
                  std::mt19937_64 rng(o.seed + 5 + static_cast<unsigned>(b) * 2 + static_cast<unsigned>(l));
                  for (int trial = 0; trial < o.groups / 20; ++trial) {
                    // Tails: most shapes are not whole blocks (cols % 16) nor whole 2-D tiles (rows % 16).
                    const std::size_t rows = trial % 5 == 0 ? 1 : 1 + rng() % 40, cols = 1 + rng() % 80;
                    const std::vector<float> x = nvfp4_random_tensor(rng, rows, cols, b, pool);
                    float amax = nvfp4::amax(x);
                    if (rng() % 8 == 0) amax *= rng() % 2 ? 2.0f : 0.5f;  // a given amax (delayed scaling)
                    std::vector<std::uint32_t> words(rows * nvfp4::sr_words_per_row(cols));
                    for (auto& w : words) w = static_cast<std::uint32_t>(rng());
                    const Rounding r = roundings.empty() ? Rounding::rne : roundings[rng() % roundings.size()];
                    const nvfp4::EncodeParams p{rows, cols, b, l, r, amax, words.data()};
                    const nvfp4::DecodeParams dp{rows, cols, l, amax};
                    const Coded want = encode(ref::nvfp4_encode_ref, x, p);
                    c.cases += x.size();
                    std::string diff = roundings.empty() ? "" : encode_diff(encode(encode_fn(impl), x, p), want, x, cols);
                    if (diff.empty()) diff = decode_diff(decode(decode_fn(impl), want, dp), decode(ref::nvfp4_decode_ref, want, dp), want, cols);
                    if (!diff.empty())
                      c.mismatch(fmt::format("tensor {} of {} x {} [{}, amax {}]: {}", trial, rows, cols, name(r), amax, diff), o.max_errors);
                  }
                });
    }
}

// ---- the reference's conversions against ml_dtypes' golden runs ------------------------------------------

// Elements at an encode scale of 1 are ml_dtypes' saturating E2M1 conversion (-0.0 aside: TE writes +0).
// Block scales with S_enc = 6 (S_enc * f32(1/6) is 1 exactly) are ml_dtypes' saturating E4M3FN conversion of
// the block's amax.
void golden_checks(const GoldenDir& golden, const BlockSuiteOptions& o, std::vector<Check>& out) {
  const std::vector<std::uint32_t> cases = f32_cases(o.seed, 1 << 16);
  for (const bool scales : {false, true}) {
    const char* file = scales ? "fp8/mld_sat_f32_to_e4m3fn.runs" : "fp8/f32_to_e2m1fn.runs";
    run_check(out, {"reference", "nvfp4", std::string(kProfile), fmt::format("f32 sample {} -> {}", scales ? "block scales" : "elements", file)},
              [&](Check& c) {
                const std::vector<Run> runs = golden.runs(file);
                for (const std::uint32_t bits : cases) {
                  const float x = std::bit_cast<float>(bits);
                  if (!std::isfinite(x) || bits == kF32Sign || (scales && std::signbit(x))) continue;
                  ++c.cases;
                  const std::uint8_t got = scales ? ref::nvfp4_scale_code(x, 6.0f) : ref::nvfp4_element_code(x, Rounding::rne, 0);
                  const std::uint8_t want = lookup(runs, bits);
                  if (got != want) c.mismatch(fmt::format("f32 0x{:08x} => 0x{:02x} expected 0x{:02x}", bits, got, want), o.max_errors);
                }
              });
  }
}

}  // namespace

std::vector<Check> run_nvfp4_suite(const nvfp4::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  fixed_checks(impl, o, out);
  if (encode_fn(impl) != ref::nvfp4_encode_ref || decode_fn(impl) != ref::nvfp4_decode_ref) random_checks(impl, o, out);
  else if (o.has(Rounding::rne)) golden_checks(golden, o, out);
  return out;
}

}  // namespace lowbit::conformance
