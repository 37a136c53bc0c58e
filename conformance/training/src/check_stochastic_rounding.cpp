// 6. GSE stochastic rounding is unbiased.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "lowbit/gse.hpp"
#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// Each element's rounding step 2^(E - (b-2)) (from the exponent fields of an encoding) and the
// fraction f of a step above the lower neighbour; sr rounds up with probability f. Elements above
// the largest mantissa saturate instead of rounding up (biased by design) and are left out.
struct SrGrid {
  std::vector<double> step, frac;
  std::vector<bool> used;
  std::size_t excluded = 0;
};

SrGrid sr_grid(const Matrix& g, const OperandFormat& f) {
  gse::Options o;
  o.format = gse_format(f, g);
  const std::size_t groups = o.format.groups(g.cols);
  std::vector<std::int8_t> codes(g.size());
  std::vector<std::uint8_t> exps(g.rows * groups);
  gse::encode_rows(g.rows, g.cols, g.v, codes, exps, o);
  SrGrid grid{std::vector<double>(g.size()), std::vector<double>(g.size()), std::vector<bool>(g.size()), 0};
  for (std::size_t i = 0; i < g.size(); ++i) {
    const int field = exps[i / g.cols * groups + i % g.cols / static_cast<std::size_t>(o.format.group)];
    grid.step[i] = std::ldexp(1.0, field - o.format.exp_bias + o.format.exp_offset - (f.bits - 2));
    const double v = std::fabs(g.v[i]) / grid.step[i];
    grid.frac[i] = v - std::floor(v);
    grid.used[i] = v <= o.format.max_mantissa();
    grid.excluded += !grid.used[i];
  }
  return grid;
}

// The error of the mean of S roundings (sum / S - x) in steps. Per element it has mean 0 and
// variance f (1 - f) / S if the rounding is unbiased.
struct MeanError {
  std::size_t seeds = 0, m = 0;   // S, elements
  double rms = 0, expected = 0;   // measured and expected RMS
  double worst = 0;               // largest |error|
  double bias = 0, bias_sd = 0;   // mean signed error (toward larger magnitude) and its sd
};

MeanError mean_error(const Matrix& g, const SrGrid& grid, const std::vector<double>& sum, std::size_t seeds) {
  MeanError e{seeds};
  double err2 = 0, var = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!grid.used[i]) continue;
    const double d = (sum[i] / static_cast<double>(seeds) - g.v[i]) / grid.step[i];
    err2 += d * d;
    var += grid.frac[i] * (1 - grid.frac[i]) / static_cast<double>(seeds);
    e.worst = std::max(e.worst, std::fabs(d));
    e.bias += g.v[i] < 0 ? -d : d;
    ++e.m;
  }
  const auto m = static_cast<double>(e.m);
  e.rms = std::sqrt(err2 / m);
  e.expected = std::sqrt(var / m);
  e.bias /= m;
  e.bias_sd = std::sqrt(var) / m;
  return e;
}

}  // namespace

std::vector<ValidationResult> validate_stochastic_rounding(Mutant m) {
  const Matrix g = gaussian(8, 64, 1e-6f, 61);
  std::vector<ValidationResult> out;
  for (int bits : {8, 6, 5}) {
    const OperandFormat f = OperandFormat::gse(bits, Rounding::sr);
    const SrGrid grid = sr_grid(g, f);
    // The rounding under test, or a broken one: rtz where sr is asked for, or sr drawing seed 0's
    // random words for every seed.
    OperandFormat rounded = f;
    if (m == Mutant::sr_truncation) rounded.rounding = Rounding::rtz;
    std::vector<double> sum(g.size(), 0.0);
    const auto add_seeds = [&](std::uint64_t from, std::uint64_t to) {
      for (std::uint64_t s = from; s < to; ++s) {
        const Matrix q = quantize_rows(g, rounded, m == Mutant::sr_fixed_seed ? 0 : s);
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += q.v[i];
      }
    };
    add_seeds(0, 64);
    const MeanError few = mean_error(g, grid, sum, 64);
    add_seeds(64, 1024);
    const MeanError many = mean_error(g, grid, sum, 1024);
    // The mean of m squared errors has relative sd ~ sqrt(2 / m) (6% for m ~ 500), its root half
    // that: a band of 0.15 is over 4 sd.
    for (const MeanError* e : {&few, &many})
      out.push_back(result("sr-unbiased", fmt::format("gse{} S={} rms", bits, e->seeds), std::fabs(e->rms / e->expected - 1),
                           0.15, e->m,
                           fmt::format("|rms / expected - 1|: rms {:.5f} step, expected sqrt(mean f(1-f) / S) = {:.5f}{}",
                                       e->rms, e->expected,
                                       e == &many ? fmt::format("; S=64 rms / this = {:.2f} (4)", few.rms / many.rms) : "")));
    // One rounding's error spans one step, so by Hoeffding and a union bound over the m elements,
    // P(max |mean error| > t) <= 2 m exp(-2 S t^2): t at probability 1e-3.
    const double t = std::sqrt(std::log(2 * static_cast<double>(many.m) / 1e-3) / (2 * static_cast<double>(many.seeds)));
    out.push_back(result("sr-unbiased", fmt::format("gse{} S=1024 max", bits), many.worst, t, many.m,
                         fmt::format("max |mean - x| in steps (Hoeffding at 1e-3); {} saturating elements excluded",
                                     grid.excluded)));
    out.push_back(result("sr-unbiased", fmt::format("gse{} S=1024 bias", bits), std::fabs(many.bias), 5 * many.bias_sd,
                         many.m, "|mean over elements of the signed error| in steps; bound 5 sd of an unbiased rounding"));
  }
  return out;
}

}  // namespace lowbit::training
