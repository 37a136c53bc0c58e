// The GSE GEMM suite. Problems: the golden generator's boundary set (gse_gemm_gen_cases: every k
// in 1 .. 2N+1, which covers every tail against the group and the kernels' k pairs, at 5 x 17
// outputs, which covers the 4 x 16 tiles' edges; extreme fields, max mantissas, cancellation, zero
// and NaN groups) on formats from int4 to int8 with 5- and 8-bit fields and offsets, then random
// problems with A and B in different formats. The reference is checked against an independent
// oracle, any other implementation against the reference.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // a false positive inside Boost's cpp_int
#include <boost/multiprecision/cpp_int.hpp>
#pragma GCC diagnostic pop

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/reference/gse_gemm.hpp"

namespace lowbit::conformance {
namespace {

using BigInt = boost::multiprecision::cpp_int;

constexpr int kUnit = 400;  // every element is an integer multiple of 2^-400: exponents are >= -360

int element_exponent(unsigned field, const gse::Format& f) {  // value = code * 2^this
  return static_cast<int>(field) - f.exp_bias + f.exp_offset - (f.bits - 2);
}

// v * 2^unit rounded to f32, nearest even, Inf beyond the largest finite value; no shared code
// with the library's rounding.
float round_oracle(const BigInt& v, int unit) {
  if (v == 0) return 0.0f;
  const bool negative = v < 0;
  const BigInt mag = negative ? BigInt(-v) : v;
  const int top = static_cast<int>(msb(mag)) + unit;  // 2^top <= |v| < 2^(top+1)
  const int quantum = std::max(top, -126) - 23;       // the result's last mantissa bit
  const int shift = quantum - unit;
  BigInt kept = shift <= 0 ? BigInt(mag << -shift) : BigInt(mag >> shift);
  if (shift > 0) {
    const BigInt rest = mag - (kept << shift), half = BigInt(1) << (shift - 1);
    if (rest > half || (rest == half && (kept & 1) != 0)) ++kept;
  }
  const double value = std::ldexp(static_cast<double>(kept), quantum);  // kept <= 2^24: exact
  const float result = value >= 0x1p128 ? std::numeric_limits<float>::infinity() : static_cast<float>(value);
  return negative ? -result : result;
}

bool same(float got, float want) {
  return std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(want) || (std::isnan(got) && std::isnan(want));
}

// Every group size once, bits 4..8, both field widths, offsets from -100 (subnormal and zero
// results) to +100 (Inf).
const gse::Format kFormats[] = {gse::Format{8, 32, 5, 15, 0}, gse::Format{4, 16, 5, 15, -30}, gse::Format{6, 64, 8, 127, 20},
                              gse::Format{5, 128, 8, 100, -100}, gse::Format{7, 256, 5, 0, 100}};

std::string describe(const gse::Format& f) {
  return fmt::format("b={} N={} e{} bias {} off {}", f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset);
}

gse::Format random_format(std::mt19937_64& rng, int group) {
  const int exp_bits = rng() % 2 ? 5 : 8, top = (1 << exp_bits) - 2;
  const int bias = rng() % 2 ? top / 2 : static_cast<int>(rng() % (top + 1));
  const int offset = rng() % 2 ? 0 : static_cast<int>(rng() % 61) - 30;
  return gse::Format{4 + static_cast<int>(rng() % 5), group, exp_bits, bias, offset};
}

// A random problem: A and B in their own formats; fields near E = 0 (or anywhere), a quarter of
// the codes zero, some rows at +-max, 2% NaN groups.
GseGemmProblem random_problem(std::mt19937_64& rng, const gse::Format& fa, const gse::Format& fb) {
  const std::size_t N = static_cast<std::size_t>(fa.group);
  GseGemmProblem p{1 + rng() % 9, 1 + rng() % 20, 1 + rng() % (3 * N + 2), {}, {}, {}, {}, GseGemmCaseClass::random};
  const bool spread = rng() % 4 == 0, at_max = rng() % 8 == 0;
  for (bool b : {false, true}) {
    const gse::Format& f = b ? fb : fa;
    const int M = f.max_mantissa(), top = static_cast<int>(f.nan_field()) - 1;
    const int mid = std::clamp(f.exp_bias - f.exp_offset, 0, top);
    for (std::size_t t = 0; t < (b ? p.n : p.m) * p.k; ++t) {
      const int code = at_max ? (rng() % 2 ? M : -M) : rng() % 4 ? static_cast<int>(rng() % (2 * M + 1)) - M : 0;
      (b ? p.b : p.a).push_back(static_cast<std::int8_t>(code));
    }
    for (std::size_t g = 0; g < (b ? p.n : p.m) * f.groups(p.k); ++g) {
      const int field = rng() % 50 == 0 ? static_cast<int>(f.nan_field())
                        : spread        ? static_cast<int>(rng() % (top + 1))
                                        : std::clamp(mid + static_cast<int>(rng() % 9) - 4, 0, top);
      (b ? p.b_exps : p.a_exps).push_back(static_cast<std::uint8_t>(field));
    }
  }
  return p;
}

// Four groups of +-big and +-small terms (2^40 apart where the field allows) whose f32 sum depends
// on the order: row 0 is B -B s s (in order: 2s; reversed: 0), row 1 s B -B s (pairwise: 0), row 2
// B s -B s, row 3 s s B -B. The generator's cancellation problem is symmetric: this one is not.
GseGemmProblem order_problem(const gse::Format& f) {
  const std::size_t N = static_cast<std::size_t>(f.group), k = 4 * N, n = 3;
  const int top = static_cast<int>(f.nan_field()) - 1, mid = std::clamp(f.exp_bias - f.exp_offset, 0, top);
  const int big = std::min(top, mid + 20), small = std::max(0, mid - 20);
  constexpr int kPattern[4][4] = {{2, -2, 1, 1}, {1, 2, -2, 1}, {2, 1, -2, 1}, {1, 1, 2, -2}};  // +-2: big, 1: small
  GseGemmProblem p{4, n, k, {}, {}, {}, {}, GseGemmCaseClass::cancellation};
  for (const auto& row : kPattern)
    for (int term : row) {
      for (std::size_t t = 0; t < N; ++t) p.a.push_back(static_cast<std::int8_t>(t == 0 ? (term < 0 ? -1 : 1) : 0));
      p.a_exps.push_back(static_cast<std::uint8_t>(term == 1 ? small : big));
    }
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t t = 0; t < k; ++t) p.b.push_back(static_cast<std::int8_t>(t % N == 0 ? f.max_mantissa() - static_cast<int>(j) : 0));
    p.b_exps.insert(p.b_exps.end(), 4, static_cast<std::uint8_t>(mid));
  }
  return p;
}

class GemmRunner {
 public:
  GemmRunner(const gse::GemmImpl& impl, const BlockSuiteOptions& o, std::vector<Check>& out)
      : impl_(impl), o_(o), out_(out), reference_(impl.gemm == kernels::gse_gemm_reference.gemm) {}

  void run() {
    for (gse::Accumulate mode : {gse::Accumulate::exact, gse::Accumulate::fp32}) {
      if (!o_.has_profile(profile(mode))) continue;
      for (const gse::Format& f : kFormats)
        check(mode, fmt::format("{}: boundary set -> {}", describe(f), against()), [&](Check& c) {
          GseGemmGenOptions g;
          g.format = f;
          g.level = Level::boundary;
          g.seed = o_.seed;
          if (reference_) g.m = 2, g.n = 3;  // the oracle is slow, and the reference has no tiles
          for (const GseGemmProblem& p : gse_gemm_gen_cases(g)) compare(c, p, {f, f, mode});
          compare(c, order_problem(f), {f, f, mode});
        });
      check(mode, fmt::format("random mixed-format problems -> {}", against()), [&](Check& c) {
        std::mt19937_64 rng(o_.seed + static_cast<unsigned>(mode));
        for (int trial = 0; trial < std::max(1, o_.groups / 20); ++trial) {
          const int N = gse::kGroupSizes[rng() % gse::kGroupSizes.size()];
          const gse::Format fa = random_format(rng, N), fb = random_format(rng, N);
          compare(c, random_problem(rng, fa, fb), {fa, fb, mode});
        }
      });
    }
  }

 private:
  const char* against() const { return reference_ ? "oracle" : "reference"; }

  static const char* profile(gse::Accumulate mode) { return mode == gse::Accumulate::exact ? "exact" : "fp32"; }

  template <class Body> void check(gse::Accumulate mode, std::string name, Body&& body) {
    run_check(out_, {impl_.name, "gse-gemm", profile(mode), std::move(name)}, body);
  }

  void compare(Check& c, const GseGemmProblem& p, const gse::GemmParams& params) {
    std::vector<float> got(p.m * p.n, -1234.5f), want(p.m * p.n);
    impl_.gemm(p.m, p.n, p.k, p.a.data(), p.a_exps.data(), p.b.data(), p.b_exps.data(), got.data(), &params);
    if (reference_) want = gse_gemm_oracle(p.m, p.n, p.k, p.a.data(), p.a_exps.data(), p.b.data(), p.b_exps.data(), params);
    else ref::gse_gemm_ref(p.m, p.n, p.k, p.a.data(), p.a_exps.data(), p.b.data(), p.b_exps.data(), want.data(), &params);
    c.cases += want.size();
    for (std::size_t i = 0; i < want.size(); ++i)
      if (!same(got[i], want[i]))
        c.mismatch(fmt::format("{} x {} x {} {} [A {} | B {}] C[{}][{}] => {} (0x{:08x}) expected {} (0x{:08x})", p.m, p.n, p.k,
                               kGseGemmCaseClassNames[static_cast<int>(p.cls)], describe(params.a), describe(params.b), i / p.n,
                               i % p.n, got[i], std::bit_cast<std::uint32_t>(got[i]), want[i], std::bit_cast<std::uint32_t>(want[i])),
                   o_.max_errors);
  }

  const gse::GemmImpl& impl_;
  const BlockSuiteOptions& o_;
  std::vector<Check>& out_;
  bool reference_;
};

}  // namespace

std::vector<float> gse_gemm_oracle(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                                   const std::int8_t* b, const std::uint8_t* b_exps, const gse::GemmParams& p) {
  const std::size_t N = static_cast<std::size_t>(p.a.group), G = p.a.groups(k);
  const auto nan_row = [&](const std::uint8_t* exps, const gse::Format& f) {
    return std::find(exps, exps + G, static_cast<std::uint8_t>(f.nan_field())) != exps + G;
  };
  std::vector<float> c(m * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint8_t *ea = a_exps + i * G, *eb = b_exps + j * G;
      const std::int8_t *ca = a + i * k, *cb = b + j * k;
      float& out = c[i * n + j];
      if (nan_row(ea, p.a) || nan_row(eb, p.b)) {
        out = std::numeric_limits<float>::quiet_NaN();
      } else if (p.accumulate == gse::Accumulate::exact) {
        BigInt sum = 0;  // in units of 2^(-2 kUnit)
        for (std::size_t t = 0; t < k; ++t)
          sum += BigInt(int{ca[t]} * int{cb[t]})
                 << (element_exponent(ea[t / N], p.a) + element_exponent(eb[t / N], p.b) + 2 * kUnit);
        out = round_oracle(sum, -2 * kUnit);
      } else {  // the documented loop with doubles: dot * 2^e is exact in double for every format
        float acc = 0.0f;
        for (std::size_t g = 0; g < G; ++g) {
          std::int64_t dot = 0;
          for (std::size_t t = g * N; t < std::min(k, (g + 1) * N); ++t) dot += ca[t] * cb[t];
          const double term = std::ldexp(static_cast<double>(dot), element_exponent(ea[g], p.a) + element_exponent(eb[g], p.b));
          acc += std::fabs(term) >= 0x1p128 ? std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(dot))
                                            : static_cast<float>(term);
        }
        out = acc;
      }
    }
  return c;
}

std::vector<Check> run_gse_gemm_suite(const gse::GemmImpl& impl, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  GemmRunner(impl, o, out).run();
  return out;
}

}  // namespace lowbit::conformance
