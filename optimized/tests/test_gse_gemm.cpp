// The GSE-INT GEMM: the reference against an independent exact oracle, then every kernel of the
// table against the reference bit for bit (NaN == NaN by bits) in both accumulation modes
// (kernel_tester.hpp: operands at the end of their heap blocks, C with guard bytes around it, the
// code check's result), on every row and column tail, shapes around every group size, mixed
// formats, extreme offsets (subnormal and Inf results), NaN groups, codes at +-max and -128, zero
// groups, wide exponent spans and cancellation.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/gse_gemm.hpp"

namespace {

using namespace lowbit;

struct Operand {
  std::size_t rows = 0, k = 0;
  gse::Format f;
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> exps;
};

enum class Codes { random, max, sparse, with_min };  // with_min: -128 too (invalid codes: the kernels say so)

struct Fields {
  unsigned lo, hi;  // exponent fields drawn from [lo, hi]
  double nan_rate;  // probability of a NaN group
};

Operand random_operand(std::size_t rows, std::size_t k, const gse::Format& f, Codes kind, Fields fields, std::mt19937_64& rng) {
  Operand o{rows, k, f, std::vector<std::int8_t>(rows * k), std::vector<std::uint8_t>(rows * f.groups(k))};
  const int max = f.max_mantissa();
  std::uniform_int_distribution<int> code(-max, max), sign(0, 1), percent(0, 99);
  for (std::int8_t& x : o.codes) {
    switch (kind) {
      case Codes::random: x = static_cast<std::int8_t>(code(rng)); break;
      case Codes::max: x = static_cast<std::int8_t>(sign(rng) ? max : -max); break;
      case Codes::sparse: x = static_cast<std::int8_t>(percent(rng) < 15 ? code(rng) : 0); break;
      case Codes::with_min: x = static_cast<std::int8_t>(percent(rng) < 30 ? -128 : code(rng)); break;
    }
  }
  if (kind == Codes::sparse)  // whole zero groups as well
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < f.groups(k); ++g)
        if (percent(rng) < 30)
          for (std::size_t t = g * f.group; t < std::min(k, (g + 1) * f.group); ++t) o.codes[r * k + t] = 0;
  std::uniform_int_distribution<unsigned> field(fields.lo, std::min(fields.hi, f.nan_field() - 1));
  std::uniform_real_distribution<double> u(0, 1);
  for (std::uint8_t& e : o.exps) e = static_cast<std::uint8_t>(u(rng) < fields.nan_rate ? f.nan_field() : field(rng));
  return o;
}

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

std::vector<float> run(const gse::GemmImpl& impl, const Operand& a, const Operand& b, gse::Accumulate mode) {
  const gse::GemmParams p{a.f, b.f, mode};
  std::vector<float> c(a.rows * b.rows, 1234.5f);
  impl.gemm(a.rows, b.rows, a.k, a.codes.data(), a.exps.data(), b.codes.data(), b.exps.data(), c.data(), &p);
  return c;
}

// The suite's oracle (conformance/suites/src/gse_gemm_suite.cpp): big-integer exact sums, the fp32 loop in doubles.
std::vector<float> oracle(const Operand& a, const Operand& b, gse::Accumulate mode) {
  return conformance::gse_gemm_oracle(a.rows, b.rows, a.k, a.codes.data(), a.exps.data(), b.codes.data(), b.exps.data(),
                                      {a.f, b.f, mode});
}

void expect_same_bits(const std::vector<float>& want, const std::vector<float>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (bits(want[i]) != bits(got[i]) && ++bad <= 3)
      ADD_FAILURE() << what << " at " << i << ": want " << want[i] << " (0x" << std::hex << bits(want[i]) << "), got "
                    << got[i] << " (0x" << bits(got[i]) << std::dec << ")";
  EXPECT_EQ(bad, 0u) << what;
}

// ---- Cases ----

struct Pair {
  const char* name;
  gse::Format a, b;
  Fields fa, fb;
  Codes codes;
};

// Format pairs for group size N: each reaches a different kernel path (fp32 normal or split
// exponents; exact spans under 32, under 64, and wide).
std::vector<Pair> pairs(int N) {
  return {
      {"int8 e5 narrow", gse::Format{8, N, 5, 15, 0}, gse::Format{8, N, 5, 15, 0}, {10, 20, 0}, {12, 18, 0}, Codes::random},
      {"int8/int4 e5 full + NaN", gse::Format{8, N, 5, 15, 0}, gse::Format{4, N, 5, 15, 0}, {0, 30, 0.03}, {0, 30, 0.03}, Codes::random},
      {"e5 offsets -30/+20 max", gse::Format{8, N, 5, 15, -30}, gse::Format{6, N, 5, 15, 20}, {0, 30, 0}, {0, 30, 0}, Codes::max},
      {"e5 tiny (subnormal)", gse::Format{8, N, 5, 15, -100}, gse::Format{8, N, 5, 10, -40}, {0, 30, 0}, {0, 30, 0}, Codes::random},
      {"e5 huge (Inf)", gse::Format{8, N, 5, 0, 100}, gse::Format{5, N, 5, 15, 20}, {0, 30, 0}, {0, 30, 0}, Codes::max},
      {"e8 full span sparse", gse::Format{8, N, 8, 127, 0}, gse::Format{8, N, 8, 127, 0}, {0, 254, 0.01}, {0, 254, 0.01}, Codes::sparse},
      {"e8 near bias", gse::Format{8, N, 8, 127, 0}, gse::Format{7, N, 8, 127, -3}, {115, 140, 0}, {120, 150, 0}, Codes::random},
      {"e8 -128 codes", gse::Format{8, N, 8, 127, 5}, gse::Format{8, N, 8, 100, -5}, {100, 160, 0}, {100, 160, 0}, Codes::with_min},
  };
}

struct Shape {
  std::size_t m, n;
};
constexpr Shape kShapes[] = {{1, 1}, {2, 3}, {3, 5}, {4, 7}, {5, 9}, {9, 8}, {7, 16}, {8, 17}, {6, 2}, {9, 9}, {1, 18}, {4, 1}};

std::vector<std::size_t> lengths(std::size_t N) { return {1, N - 1, N, N + 1, 2 * N + 3, 5 * N}; }

// ---- The conformance suite (`lowbit conform`'s gse-gemm rows) ----

void expect_all_passed(const std::vector<conformance::Check>& checks) {
  ASSERT_FALSE(checks.empty());
  for (const conformance::Check& c : checks)
    EXPECT_TRUE(c.passed()) << c.impl << " " << c.profile << " " << c.name << ": " << c.errors << " errors in " << c.cases
                            << " cases" << (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
}

TEST(GseGemmConformance, EveryImplementationPassesTheSuite) {
  std::size_t impls = 0;
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl)) continue;
    const std::vector<conformance::Check> checks = conformance::run_gse_gemm_suite(impl, {});
    EXPECT_EQ(checks.size(), 2u * 6);  // per accumulation: five formats, the random problems
    expect_all_passed(checks);
    ++impls;
  }
  EXPECT_GE(impls, 1u);
}

// fp32 accumulation over the groups in reverse order: only the fp32 checks can see it.
bool reversed_fp32(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                   const std::int8_t* b, const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  if (p->accumulate == gse::Accumulate::exact) return ref::gse_gemm_ref(m, n, k, a, a_exps, b, b_exps, c, p);
  const std::size_t N = static_cast<std::size_t>(p->a.group), G = p->a.groups(k);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (std::size_t g = G; g-- > 0;) {  // one group at a time through the reference
        const std::size_t len = std::min(k, (g + 1) * N) - g * N;
        float term = 0.0f;
        ref::gse_gemm_ref(1, 1, len, a + i * k + g * N, a_exps + i * G + g, b + j * k + g * N, b_exps + j * G + g, &term, p);
        acc += term;
      }
      c[i * n + j] = acc;
    }
  return m == 0 || n == 0 || (!ref::gse_invalid_code({a, m * k}, p->a) && !ref::gse_invalid_code({b, n * k}, p->b));
}

TEST(GseGemmConformance, TheSuiteReportsReversedFp32Accumulation) {
  const gse::GemmImpl faulty{.name = "reversed", .gemm = reversed_fp32};
  std::uint64_t fp32_errors = 0;
  for (const conformance::Check& c : conformance::run_gse_gemm_suite(faulty, {})) {
    if (c.profile == "exact") EXPECT_TRUE(c.passed()) << c.name;
    else fp32_errors += c.errors;
  }
  EXPECT_GT(fp32_errors, 30u);  // the order problems alone: rows 0, 2 and 3 on most formats
}

// ---- The reference against the oracle ----

TEST(GseGemmReference, ExactEqualsTheExactSumRoundedOnce) {
  std::mt19937_64 rng(20261201);
  std::size_t cases = 0;
  for (int N : gse::kGroupSizes)
    for (const Pair& pr : pairs(N))
      for (std::size_t k : lengths(N)) {
        const Shape s = kShapes[cases++ % std::size(kShapes)];
        const std::size_t m = std::min<std::size_t>(s.m, 2), n = std::min<std::size_t>(s.n, 3);
        const Operand a = random_operand(m, k, pr.a, pr.codes, pr.fa, rng), b = random_operand(n, k, pr.b, pr.codes, pr.fb, rng);
        expect_same_bits(oracle(a, b, gse::Accumulate::exact), run(kernels::gse_gemm_reference, a, b, gse::Accumulate::exact),
                         std::string(pr.name) + " N=" + std::to_string(N) + " k=" + std::to_string(k));
      }
}

TEST(GseGemmReference, Fp32IsTheDocumentedFloatLoop) {
  std::mt19937_64 rng(20261202);
  std::size_t cases = 0;
  for (int N : gse::kGroupSizes)
    for (const Pair& pr : pairs(N))
      for (std::size_t k : lengths(N)) {
        const Shape s = kShapes[cases++ % std::size(kShapes)];
        const Operand a = random_operand(s.m, k, pr.a, pr.codes, pr.fa, rng), b = random_operand(s.n, k, pr.b, pr.codes, pr.fb, rng);
        expect_same_bits(oracle(a, b, gse::Accumulate::fp32), run(kernels::gse_gemm_reference, a, b, gse::Accumulate::fp32),
                         std::string(pr.name) + " N=" + std::to_string(N) + " k=" + std::to_string(k));
      }
}

// ---- Every kernel against the reference ----

struct Counts {
  std::size_t outputs = 0, modes_differ = 0;
};

// impl against the reference on a and b, placed `offset` elements into their heap blocks.
::testing::AssertionResult same_as_reference(const gse::GemmImpl& impl, const Operand& a, const Operand& b, gse::Accumulate mode,
                                             std::size_t offset = 0) {
  const test::Placed<std::int8_t> ac{a.codes, offset}, bc{b.codes, offset};
  const test::Placed<std::uint8_t> ae{a.exps, offset}, be{b.exps, offset};
  const gse::GemmParams p{a.f, b.f, mode};
  return test::same_as_reference<float>(impl.gemm, kernels::gse_gemm_reference.gemm, offset, {a.rows * b.rows}, [&](auto fn, float* c) {
    return fn(a.rows, b.rows, a.k, ac.data(), ae.data(), bc.data(), be.data(), c, &p);
  }) << " (" << impl.name << (mode == gse::Accumulate::exact ? " exact " : " fp32 ") << a.rows << "x" << b.rows << "x" << a.k << ")";
}

void check_all_impls(const Operand& a, const Operand& b, const std::string& what, Counts& counts, std::size_t offset = 0) {
  const std::vector<float> exact = run(kernels::gse_gemm_reference, a, b, gse::Accumulate::exact);
  const std::vector<float> fp32 = run(kernels::gse_gemm_reference, a, b, gse::Accumulate::fp32);
  for (std::size_t i = 0; i < exact.size(); ++i) counts.modes_differ += bits(exact[i]) != bits(fp32[i]);
  counts.outputs += exact.size();
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl) || std::string_view(impl.name) == "reference") continue;
    EXPECT_TRUE(same_as_reference(impl, a, b, gse::Accumulate::exact, offset)) << what;
    EXPECT_TRUE(same_as_reference(impl, a, b, gse::Accumulate::fp32, offset)) << what;
  }
}

TEST(GseGemmKernels, EqualTheReferenceOnEveryShapeAndFormat) {
  std::mt19937_64 rng(20261203);
  Counts counts;
  std::size_t cases = 0;
  for (int N : gse::kGroupSizes)
    for (const Pair& pr : pairs(N))
      for (std::size_t k : lengths(N))
        for (int rep = 0; rep < 2; ++rep) {
          const Shape s = rep == 1 && k == 2 * static_cast<std::size_t>(N) + 3 ? Shape{17, 33} : kShapes[cases++ % std::size(kShapes)];
          const Operand a = random_operand(s.m, k, pr.a, pr.codes, pr.fa, rng), b = random_operand(s.n, k, pr.b, pr.codes, pr.fb, rng);
          check_all_impls(a, b,
                          std::string(pr.name) + " N=" + std::to_string(N) + " " + std::to_string(s.m) + "x" + std::to_string(s.n) +
                              "x" + std::to_string(k),
                          counts);
        }
  // The two modes are really exercised: rounding every partial sum differs from rounding once.
  EXPECT_GT(counts.modes_differ, 0u) << "of " << counts.outputs;
}

// Every row and column tail: m = 0 .. 17 (twice the largest row tile, plus one), n = 0 .. 2 * width + 1
// (width: the column tile), each with its own k, format pair and buffer offset.
TEST(GseGemmKernels, EqualTheReferenceOnEveryRowAndColumnTail) {
  std::mt19937_64 rng(20261204);
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl) || std::string_view(impl.name) == "reference") continue;
    for (std::size_t m : test::tail_lengths(8))
      ASSERT_TRUE(test::every_tail(test::tail_lengths(impl.width), [&](std::size_t n, std::size_t offset) {
        const int N = gse::kGroupSizes[(m + n) % gse::kGroupSizes.size()];
        const Pair pr = pairs(N)[(m * 9 + n) % pairs(N).size()];
        const std::size_t k = lengths(N)[(m + 2 * n) % 6];
        const Operand a = random_operand(m, k, pr.a, pr.codes, pr.fa, rng), b = random_operand(n, k, pr.b, pr.codes, pr.fb, rng);
        ::testing::AssertionResult r = same_as_reference(impl, a, b, gse::Accumulate::exact, offset);
        return r ? same_as_reference(impl, a, b, gse::Accumulate::fp32, offset) : r;
      }, {(m * 5) % 4})) << "m=" << m;
  }
}

// Many groups: the exact kernels fold their int32 words every 512 groups, and the worst-case
// magnitudes (every code at +-max with equal signs, or -128) must not overflow them.
TEST(GseGemmKernels, EqualTheReferenceOverManyGroupsAtFullScale) {
  std::mt19937_64 rng(20261205);
  Counts counts;
  for (int N : {16, 256}) {
    const std::size_t k = static_cast<std::size_t>(N) * 1100 + 5;
    for (Pair pr : {pairs(N)[0], pairs(N)[1], pairs(N)[6], pairs(N)[7]}) {
      pr.fa.nan_rate = pr.fb.nan_rate = 0;
      Operand a = random_operand(N == 16 ? 5 : 2, k, pr.a, Codes::max, pr.fa, rng);
      Operand b = random_operand(3, k, pr.b, Codes::max, pr.fb, rng);
      for (std::int8_t& x : a.codes) x = static_cast<std::int8_t>(pr.codes == Codes::with_min ? -128 : std::abs(x));
      for (std::size_t t = 0; t < b.codes.size(); ++t)  // row 0: all the same sign as A; row 1: opposite
        b.codes[t] = static_cast<std::int8_t>(pr.codes == Codes::with_min ? -128 : t < k ? std::abs(b.codes[t]) : t < 2 * k ? -std::abs(b.codes[t]) : b.codes[t]);
      check_all_impls(a, b, std::string(pr.name) + " many groups N=" + std::to_string(N), counts);
    }
  }
}

// Large cancellation: group 0 and group 2 cancel, group 1 is 2^-40 of them. fp32 loses group 1
// (acc = big + small = big, then big - big = 0); exact keeps it.
TEST(GseGemmKernels, ExactKeepsWhatFp32Cancels) {
  const gse::Format f = gse::Format{8, 32, 5, 15, 0};
  Operand a{1, 96, f, std::vector<std::int8_t>(96, 1), {30, 0, 30}};
  Operand b{2, 96, f, std::vector<std::int8_t>(192, 100), {30, 0, 30, 30, 0, 30}};
  for (std::size_t t = 64; t < 96; ++t) b.codes[t] = b.codes[96 + t] = -100;
  b.codes[96 + 40] = 0;  // row 1: a slightly different small group
  const std::vector<float> exact = run(kernels::gse_gemm_reference, a, b, gse::Accumulate::exact);
  const std::vector<float> fp32 = run(kernels::gse_gemm_reference, a, b, gse::Accumulate::fp32);
  EXPECT_EQ(fp32[0], 0.0f);
  EXPECT_EQ(exact[0], std::ldexp(3200.0f, -30 - 12));  // 32 * 100 * 2^(0 - 15 - 6) * 2^(0 - 15 - 6)
  EXPECT_EQ(exact[1], std::ldexp(3100.0f, -30 - 12));
  Counts counts;
  check_all_impls(a, b, "cancellation", counts);
  EXPECT_EQ(counts.modes_differ, 2u);
}

// ---- Constructed sums: rounding ties, sticky bits, subnormals, overflow ----

struct Term {
  int dot, e;  // one group of 16 contributing dot * 2^e
};

// A 1 x 2 GEMM (E8M0-style 8-bit exponents) whose output 0 is the sum of `terms` and output 1 its
// negation: group g of A holds a single code 1, of B a single code +-dot; the two exponent
// fields split e.
std::pair<Operand, Operand> from_terms(const std::vector<Term>& terms) {
  const gse::Format f = gse::Format{8, 16, 8, 127, 0};  // e' = field - 133
  const std::size_t G = terms.size(), k = 16 * G;
  Operand a{1, k, f, std::vector<std::int8_t>(k), std::vector<std::uint8_t>(G)};
  Operand b{2, k, f, std::vector<std::int8_t>(2 * k), std::vector<std::uint8_t>(2 * G)};
  for (std::size_t g = 0; g < G; ++g) {
    const int sum = terms[g].e + 266, fa = std::min(sum, 254);
    a.codes[16 * g] = 1;
    a.exps[g] = static_cast<std::uint8_t>(fa);
    b.codes[16 * g] = static_cast<std::int8_t>(terms[g].dot);
    b.codes[k + 16 * g] = static_cast<std::int8_t>(-terms[g].dot);
    b.exps[g] = b.exps[G + g] = static_cast<std::uint8_t>(sum - fa);
  }
  return {a, b};
}

TEST(GseGemmKernels, EqualTheReferenceAndTheOracleOnRoundingEdges) {
  const std::vector<std::vector<Term>> cases = {
      {{1, 100}, {1, 76}, {1, 0}},              // tie plus a sticky bit 100 bits down: up
      {{1, 100}, {1, 76}},                      // tie: to even, down
      {{1, 101}, {1, 78}, {1, 77}},             // tie above an odd last bit: up
      {{1, 62}, {1, 38}, {1, 0}},               // span 62: the 63-bit integer path's sticky bit
      {{1, 62}, {1, 38}},
      {{1, 31}, {1, 7}, {1, 0}},                // span 31
      {{5, 90}, {-5, 90}},                      // exact zero: +0 both ways
      {{1, 90}, {-1, 90}, {-1, 0}},             // all but the smallest cancels
      {{1, -150}},                              // half the smallest subnormal: to even, 0
      {{1, -150}, {1, -200}},                   // a bit more: the smallest subnormal
      {{3, -151}},
      {{1, -127}, {1, -150}},                   // subnormal tie, even
      {{1, -127}, {1, -149}, {1, -150}},        // subnormal tie, odd: up
      {{1, -266}, {127, -240}, {-3, -180}},
      {{1, 127}},
      {{1, 128}},                               // Inf
      {{127, 121}},                             // finite, just below 2^128
      {{3, 127}, {-1, 128}},                    // exact: 2^127; fp32: Inf - Inf = NaN
      {{1, 128}, {-1, 103}},                    // the largest finite + half an ulp: a tie, to Inf
      {{1, 128}, {-1, 103}, {-1, 0}},           // just below: the largest finite
      {{1, 242}, {-1, 242}, {7, -266}},
  };
  Counts counts;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto [a, b] = from_terms(cases[i]);
    expect_same_bits(oracle(a, b, gse::Accumulate::exact), run(kernels::gse_gemm_reference, a, b, gse::Accumulate::exact), "oracle exact, case " + std::to_string(i));
    expect_same_bits(oracle(a, b, gse::Accumulate::fp32), run(kernels::gse_gemm_reference, a, b, gse::Accumulate::fp32), "oracle fp32, case " + std::to_string(i));
    check_all_impls(a, b, "case " + std::to_string(i), counts);
  }
  EXPECT_GT(counts.modes_differ, 0u);
}

// The largest dots (every code -128, or 127, in groups of 256) at the largest shift of each
// exact path (s = 31, 63, 95) in every group but the last, for 1100 groups: the int32 words of
// the exact kernels are folded often enough (every 1024 groups would overflow here).
TEST(GseGemmKernels, EqualTheReferenceAtTheWorstShifts) {
  const std::size_t G = 1100, k = 256 * G;
  for (int shift : {31, 63, 95}) {
    const gse::Format f = gse::Format{8, 256, 8, 127, 0};
    Operand a{2, k, f, std::vector<std::int8_t>(2 * k), std::vector<std::uint8_t>(2 * G, 127)};
    Operand b{2, k, f, std::vector<std::int8_t>(2 * k), std::vector<std::uint8_t>(2 * G, 127)};
    for (std::size_t t = 0; t < k; ++t) {
      a.codes[t] = b.codes[t] = 127;
      a.codes[k + t] = b.codes[k + t] = -128;
    }
    for (std::size_t g = 0; g + 1 < G; ++g) {
      a.exps[g] = a.exps[G + g] = static_cast<std::uint8_t>(127 + shift / 2);
      b.exps[g] = b.exps[G + g] = static_cast<std::uint8_t>(127 + shift - shift / 2);
    }
    Counts counts;
    check_all_impls(a, b, "shift " + std::to_string(shift), counts);
  }
}

TEST(GseGemmKernels, EqualTheReferenceOnEncodedActivationsAndWeights) {
  std::mt19937_64 rng(20261206);
  std::normal_distribution<float> normal(0.f, 1.f);
  Counts counts;
  for (const gse::Format& f : {gse::Format{8, 32, 5, 15, 0}, gse::Format{4, 64, 5, 15, 0}, gse::mxint8_format()}) {
    const std::size_t m = 13, n = 37, k = 300;
    std::vector<float> x(m * k), w(n * k);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * (i % 97 == 0 ? 50.f : 1.f);  // outliers
    for (float& v : w) v = normal(rng) * 0.02f;
    Operand a{m, k, f, std::vector<std::int8_t>(m * k), std::vector<std::uint8_t>(m * f.groups(k))};
    Operand b{n, k, f, std::vector<std::int8_t>(n * k), std::vector<std::uint8_t>(n * f.groups(k))};
    gse::Options o;
    o.format = f;
    gse::encode_rows(m, k, x, a.codes, a.exps, o);
    gse::encode_rows(n, k, w, b.codes, b.exps, o);
    check_all_impls(a, b, "encoded bits=" + std::to_string(f.bits) + " group=" + std::to_string(f.group), counts);
    // The public API picks the best kernel: the same bits.
    for (gse::Accumulate mode : {gse::Accumulate::exact, gse::Accumulate::fp32}) {
      std::vector<float> c(m * n);
      gse::gemm(m, n, k, {a.codes, a.exps, f}, {b.codes, b.exps, f}, c, {.accumulate = mode});
      expect_same_bits(run(kernels::gse_gemm_reference, a, b, mode), c, "gse::gemm");
    }
  }
}

TEST(GseGemmKernels, EmptyShapes) {
  const gse::Format f = gse::Format{8, 16, 5, 15, 0};
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl)) continue;
    for (gse::Accumulate mode : {gse::Accumulate::exact, gse::Accumulate::fp32}) {
      const gse::GemmParams p{f, f, mode};
      std::vector<float> c(6, 1.0f);
      EXPECT_TRUE(impl.gemm(2, 3, 0, nullptr, nullptr, nullptr, nullptr, c.data(), &p));  // k = 0: +0
      for (float x : c) EXPECT_EQ(bits(x), 0u) << impl.name;
      EXPECT_TRUE(impl.gemm(0, 3, 5, nullptr, nullptr, nullptr, nullptr, nullptr, &p));  // nothing to do, no code read
    }
  }
}

// gse::gemm leaves the code check to its kernel: an invalid code is malformed data, named by operand
// and element.
TEST(GseGemmApi, RejectsCodesOutsideTheRange) {
  const gse::Format f{5, 16, 5, 15, 0};
  std::vector<std::int8_t> a(3 * 40, 15), b(2 * 40, -15);
  const std::vector<std::uint8_t> a_exps(3 * f.groups(40), 15), b_exps(2 * f.groups(40), 15);
  std::vector<float> c(6);
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl)) continue;
    const gse::GemmOptions o{.impl = &impl};
    EXPECT_NO_THROW(gse::gemm(3, 2, 40, {a, a_exps, f}, {b, b_exps, f}, c, o)) << impl.name;
    for (auto [codes, at, what] : {std::tuple{&a, 119, "A"}, std::tuple{&b, 41, "B"}}) {
      const std::int8_t saved = (*codes)[at];
      (*codes)[at] = -16;
      try {
        gse::gemm(3, 2, 40, {a, a_exps, f}, {b, b_exps, f}, c, o);
        ADD_FAILURE() << impl.name << ": no error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::data) << impl.name;
        EXPECT_EQ(std::string(e.what()), std::string(what) + ": code -16 at element " + std::to_string(at) + " is outside +-15 for 5-bit elements")
            << impl.name;
      }
      (*codes)[at] = saved;
    }
  }
}

}  // namespace
