#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/error.hpp"
#include "lowbit/reference/gse_gemm.hpp"

namespace lowbit::conformance {
namespace {

using K = GseGemmCaseClass;

// Builds an m x n x k problem: code(row, t) and field(row, g) of A rows (b = false) and B rows (b = true).
template <class Code, class Field>
GseGemmProblem make(std::size_t m, std::size_t n, std::size_t k, std::size_t group, K cls, Code code, Field field) {
  const std::size_t groups = (k + group - 1) / group;
  GseGemmProblem p{m, n, k, {}, {}, {}, {}, cls};
  for (bool b : {false, true})
    for (std::size_t r = 0; r < (b ? n : m); ++r) {
      for (std::size_t t = 0; t < k; ++t) (b ? p.b : p.a).push_back(static_cast<std::int8_t>(code(b, r, t)));
      for (std::size_t g = 0; g < groups; ++g) (b ? p.b_exps : p.a_exps).push_back(static_cast<std::uint8_t>(field(b, r, g)));
    }
  return p;
}

// Throws when the problems of gse_gemm_gen_cases would hold more than kMaxGseGemmGenElements elements:
// each counted at the longest k with its exponent fields and its two outputs (expected, other), every
// product and sum overflow-checked, before anything is allocated.
void check_size(const GseGemmGenOptions& o, std::size_t N, std::size_t k) {
  std::uint64_t rows = 0, mn = 0, kc = 0, per_row = 0, per = 0, total = 0;
  bool ok = !__builtin_add_overflow(o.m, o.n, &rows) && !__builtin_mul_overflow(o.m, o.n, &mn) &&
            !__builtin_mul_overflow(N, std::max<std::uint64_t>(3, k / N + (k % N != 0)), &kc);  // the cancellation problem
  const std::uint64_t k_max = std::max<std::uint64_t>({k, kc, 2 * N + 1}), problems =
      2 * N + 6 + (ok && o.level == Level::quick ? o.random / mn + (o.random % mn != 0) : 0);
  ok = ok && !__builtin_add_overflow(k_max, k_max / N + 1, &per_row) && !__builtin_mul_overflow(rows, per_row, &per) &&
       !__builtin_add_overflow(per, 2 * mn, &per) && !__builtin_mul_overflow(per, problems, &total);
  if (!ok || total > kMaxGseGemmGenElements)
    throw Error(fmt::format("--m {} --n {} --k {} with -n {}: a gse-gemm set holds at most {} elements (operand codes, exponent "
                            "fields and outputs; docs/conformance.md), these problems {}",
                            o.m, o.n, k, o.random, kMaxGseGemmGenElements, ok ? fmt::format("about {}", total) : std::string("more than 2^64")));
}

}  // namespace

std::vector<GseGemmProblem> gse_gemm_gen_cases(const GseGemmGenOptions& o) {
  const gse::Format& f = o.format;
  if (const auto e = validate(f)) throw std::runtime_error(*e);
  check_gen(o.level, o.random);
  if (o.m == 0 || o.n == 0) throw Error("m and n must be at least 1");
  const std::size_t N = static_cast<std::size_t>(f.group), k = o.k ? o.k : 4 * N + 3, m = o.m, n = o.n;
  check_size(o, N, k);
  const int M = f.max_mantissa(), top = static_cast<int>(f.nan_field()) - 1;
  const int mid = std::clamp(f.exp_bias - f.exp_offset, 0, top);  // E = 0 where the field reaches it
  SplitMix64 rng{o.seed};
  const auto rcode = [&](auto...) { return static_cast<int>(rng.next() % static_cast<unsigned>(2 * M + 1)) - M; };
  const auto near = [&](int field, int spread) {
    return std::clamp(field + static_cast<int>(rng.next() % static_cast<unsigned>(2 * spread + 1)) - spread, 0, top);
  };
  const auto rfield = [&](auto...) { return near(mid, 4); };
  std::vector<GseGemmProblem> v;
  for (std::size_t kk = 1; kk <= 2 * N + 1; ++kk) v.push_back(make(m, n, kk, N, K::tail, rcode, rfield));
  // Fields 0 and 2^e - 2 crossed: rows all at the bottom, all at the top, alternating per group.
  const auto extreme = [&](bool, std::size_t r, std::size_t g) { return r % 3 == 0 ? 0 : r % 3 == 1 ? top : (g % 2 ? top : 0); };
  v.push_back(make(m, n, k, N, K::exp_extreme, rcode, extreme));
  v.push_back(make(m, n, k, N, K::max_mantissa,
                   [&](bool b, std::size_t r, std::size_t t) { return r % 2 == 0 ? M : (b || t % 2) ? -M : M; },
                   [&](bool b, std::size_t r, std::size_t g) { return r % 3 == 2 ? top : b ? mid : std::min(top, mid + static_cast<int>(g * 9 % 23)); }));
  // Large equal and opposite first and last groups around small ones: fp32 loses what exact keeps.
  const std::size_t kc = N * std::max<std::size_t>(3, (k + N - 1) / N), last = kc / N - 1;
  v.push_back(make(m, n, kc, N, K::cancellation,
                   [&](bool b, std::size_t, std::size_t t) {
                     const std::size_t g = t / N;
                     return b ? M : g == 0 ? M : g == last ? -M : static_cast<int>(rng.next() % 7) - 3;
                   },
                   [&](bool b, std::size_t, std::size_t g) { return b ? mid : g == 0 || g == last ? near(top, 0) : near(0, 2); }));
  // Zero groups under the largest field: a kernel must not let them pick a scale.
  v.push_back(make(m, n, k, N, K::zero_group,
                   [&](bool b, std::size_t r, std::size_t t) {
                     const bool zero = b ? r % 2 == 1 : r % 3 == 0 || (r % 3 == 1 && (t / N) % 2 == 0);
                     return zero ? 0 : rcode();
                   },
                   [&](bool b, std::size_t r, std::size_t g) { return b ? (r % 2 ? 0 : mid) : (r % 3 == 2 ? mid : g % 2 ? mid : top); }));
  const int nan = static_cast<int>(f.nan_field());
  const std::size_t groups = (k + N - 1) / N;
  v.push_back(make(m, n, k, N, K::nan, [&](bool, std::size_t, std::size_t) { return rcode(); },
                   [&](bool b, std::size_t r, std::size_t g) {
                     const bool is_nan = b ? r % 2 == 1 && g == groups / 2 : (r % 3 == 0 && g == 0) || (r % 3 == 1 && g == groups - 1);
                     return is_nan ? nan : mid;
                   }));
  if (o.level == Level::quick)
    for (std::size_t done = 0; done < o.random; done += m * n)
      v.push_back(make(m, n, k, N, K::random, [&](auto...) { return rng.next() % 4 == 0 ? 0 : rcode(); },
                       [&](auto...) { return static_cast<int>(rng.next() % static_cast<unsigned>(top + 1)); }));
  return v;
}

std::vector<float> gse_gemm_fp32_bound(const GseGemmProblem& p, const gse::Format& f) {
  const std::size_t N = static_cast<std::size_t>(f.group), groups = f.groups(p.k);
  const double u = 0x1p-24, j = p.k ? static_cast<double>(p.k - 1) : 0, gamma = j * u / (1 - j * u);
  std::vector<float> bound(p.m * p.n);
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t c = 0; c < p.n; ++c) {
      double s = 0;  // S = sum |a_t b_t| 2^e: each group's integer sum exact, the total within (groups) 2^-53 relative
      bool nan = false;
      for (std::size_t g = 0; g < groups; ++g) {
        const unsigned ea = p.a_exps[i * groups + g], eb = p.b_exps[c * groups + g];
        nan |= ea == f.nan_field() || eb == f.nan_field();
        std::int64_t dot = 0;
        for (std::size_t t = g * N; t < std::min(p.k, (g + 1) * N); ++t) dot += std::abs(std::int64_t{p.a[i * p.k + t]} * p.b[c * p.k + t]);
        const int e = 2 * (f.exp_offset - f.exp_bias - (f.bits - 2)) + static_cast<int>(ea) + static_cast<int>(eb);
        s += std::ldexp(static_cast<double>(dot), e);
      }
      const double beta = 2 * gamma * s * (1 + 0x1p-40) + static_cast<double>(p.k) * 0x1p-148;
      float b = beta > std::numeric_limits<float>::max() ? std::numeric_limits<float>::infinity() : static_cast<float>(beta);
      if (static_cast<double>(b) < beta) b = std::nextafter(b, std::numeric_limits<float>::infinity());
      bound[i * p.n + c] = nan ? 0.0f : b;
    }
  return bound;
}

GenSummary gen_gse_gemm(const GseGemmGenOptions& o, const std::string& dir) {
  const std::vector<GseGemmProblem> problems = gse_gemm_gen_cases(o);
  const gse::Format& f = o.format;
  const bool fp32 = o.accumulate == gse::Accumulate::fp32;
  std::vector<std::uint32_t> shapes, expected, other, tolerance;
  std::vector<std::int8_t> a, b;
  std::vector<std::uint8_t> a_exps, b_exps, classes;
  for (const GseGemmProblem& p : problems) {
    for (std::size_t d : {p.m, p.n, p.k}) shapes.push_back(static_cast<std::uint32_t>(d));
    a.insert(a.end(), p.a.begin(), p.a.end());
    b.insert(b.end(), p.b.begin(), p.b.end());
    a_exps.insert(a_exps.end(), p.a_exps.begin(), p.a_exps.end());
    b_exps.insert(b_exps.end(), p.b_exps.begin(), p.b_exps.end());
    for (auto [acc, out] : {std::pair{o.accumulate, &expected}, {fp32 ? gse::Accumulate::exact : gse::Accumulate::fp32, &other}}) {
      std::vector<float> c(p.m * p.n);
      const gse::GemmParams params{f, f, acc};
      ref::gse_gemm_ref(p.m, p.n, p.k, p.a.data(), p.a_exps.data(), p.b.data(), p.b_exps.data(), c.data(), &params);
      for (float x : c) out->push_back(f32_bits(x));
    }
    if (fp32)
      for (float x : gse_gemm_fp32_bound(p, f)) tolerance.push_back(f32_bits(x));
    classes.insert(classes.end(), p.m * p.n, static_cast<std::uint8_t>(p.cls));
  }
  GoldenWriter w(dir, o.container);
  w.put("problems", io::npy::make_array("<u4", shapes, {problems.size(), 3}), "m, n, k of each problem");
  w.put("a_codes", io::npy::make_array("|i1", a), "A codes, m x k per problem (two's complement)");
  w.put("a_exps", io::npy::make_array("|u1", a_exps), "A exponent fields, m x groups(k) per problem");
  w.put("b_codes", io::npy::make_array("|i1", b), "B codes, n x k per problem");
  w.put("b_exps", io::npy::make_array("|u1", b_exps), "B exponent fields, n x groups(k) per problem");
  w.put("expected", io::npy::make_array("<u4", expected), fmt::format("C = A B^T, m x n per problem, f32 bits ({} accumulation)", fp32 ? "fp32" : "exact"));
  w.put("classes", io::npy::make_array("|u1", classes), "case class index per output");
  w.put("other", io::npy::make_array("<u4", other), fmt::format("C with the {} accumulation (f32 bits)", fp32 ? "exact" : "fp32"));
  GoldenTest t{"gemm", "gse A, B -> C = A B^T", "other", "expected", "classes",
               std::vector<std::string>(std::begin(kGseGemmCaseClassNames), std::end(kGseGemmCaseClassNames)),
               "sign-magnitude", "f32 ulps"};
  if (fp32) {
    w.put("tolerance", io::npy::make_array("<u4", tolerance), "per-output bound 2 gamma_(k-1) S + k 2^-148 (f32 bits)");
    t.extra["tolerance"] = "tolerance";
  }
  w.test(std::move(t));
  return w.write({
      {"kind", "gse-gemm"},
      {"format", "gse-gemm"},
      {"gse", gse_json(f)},
      {"accumulate", fp32 ? "fp32" : "exact"},
      {"rounding", "rne"},  // of the results (f32) / the quantizer (torch.round): nearest, ties to even
      {"m", o.m},
      {"n", o.n},
      {"k", o.k ? o.k : 4 * static_cast<std::size_t>(f.group) + 3},
      {"problems", problems.size()},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
  });
}

}  // namespace lowbit::conformance
