// 4. The weak-column gradient: WeakColumnLinear's dx and dO against the exact gradient of its model.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// Each entry of the fp32 gradient against the exact one rounded once to fp32: the layer's n
// roundings (gamma_n on the formula on |.|), the oracle's one and the magnitude's one (exact, then
// rounded: it may sit u below the true one) stay within gamma_{n+2}, since
// (gamma_n + u) / (1 - u) <= gamma_{n+2}.
ValidationResult compare_exact(std::string config, const Matrix& layer, const Matrix& exact, const Matrix& magnitude,
                               std::size_t n) {
  std::vector<double> error(exact.size(), std::numeric_limits<double>::infinity());  // a wrong shape fails
  if (layer.rows == exact.rows && layer.cols == exact.cols)
    for (std::size_t i = 0; i < error.size(); ++i) error[i] = std::fabs(static_cast<double>(layer.v[i]) - exact.v[i]);
  return within_gamma("weak-gradient", std::move(config), error, magnitude, n + 2,
                      fmt::format("|fp32 - exact| / formula on |.|; bound gamma_{} ({} roundings, oracle, magnitude)",
                                  n + 2, n));
}

// The model, y = x W4^T + x_w O^T with x_w = x[:, IC-k:], as one product over IC + k inputs:
// y = [x | x_w] [W4 | O]^T. Its gradients are dO = g^T x_w and dx = g W4 + [0 | g O], i.e. dx is
// [g | g] times (W4 over [0 | O]) stacked along OC: one dot product of 2 OC terms per entry.
struct Exact {
  Matrix dx, dO;
};

Exact exact_gradients(const Matrix& x, const Matrix& w4, const Matrix& o, const Matrix& g) {
  const std::size_t t = g.rows, oc = w4.rows, ic = w4.cols, first = ic - o.cols;
  Matrix gg(t, 2 * oc), stacked(2 * oc, ic);
  for (std::size_t r = 0; r < t; ++r)
    for (std::size_t j = 0; j < oc; ++j) gg(r, j) = gg(r, oc + j) = g(r, j);
  for (std::size_t r = 0; r < oc; ++r) {
    for (std::size_t i = 0; i < ic; ++i) stacked(r, i) = w4(r, i);
    for (std::size_t j = 0; j < o.cols; ++j) stacked(oc + r, first + j) = o(r, j);
  }
  return {exact_matmul_nt(gg, transpose(stacked)), exact_matmul_nt(transpose(g), transpose(columns(x, first, ic)))};
}

}  // namespace

std::vector<ValidationResult> validate_weak_column_gradient(Mutant m) {
  // Larger than finite differences can afford (those take T = 2, OC = 8, k = 3).
  const std::size_t t = 24, oc = 16, ic = 64;
  const std::vector<std::int32_t> weak{2, 9, 30, 31, 50, 63};
  const WeakRun run = weak_run(t, oc, ic, weak, 51, m);
  const Matrix &x = run.x, &g = run.g;
  const WeakGrads& d = run.d;
  const Exact exact = exact_gradients(x, run.model.w4, run.model.o, g);
  const Exact mag = exact_gradients(absolute(x), absolute(run.model.w4), absolute(run.model.o), absolute(g));
  // dx = fl(g W4), then fl(+ fl(g O)) on the weak columns: OC + 1 roundings; dO = g^T x_w: T.
  return {compare_exact("qeft dx", d.x, exact.dx, mag.dx, oc + 1), compare_exact("qeft dO", d.oweight, exact.dO, mag.dO, t)};
}

}  // namespace lowbit::training
