// 1. Finite differences: fp32 analytic gradients against 50-digit central differences.
#include <cmath>
#include <functional>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <fmt/format.h>

#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

using Big = boost::multiprecision::cpp_bin_float_50;

struct BigMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Big> v;
  BigMatrix(std::size_t r, std::size_t c) : rows(r), cols(c), v(r * c) {}
  explicit BigMatrix(const Matrix& m) : rows(m.rows), cols(m.cols), v(m.v.begin(), m.v.end()) {}
};

BigMatrix big_matmul_nt(const BigMatrix& a, const BigMatrix& b) {
  BigMatrix c(a.rows, b.rows);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j)
      for (std::size_t k = 0; k < a.cols; ++k) c.v[i * c.cols + j] += a.v[i * a.cols + k] * b.v[j * b.cols + k];
  return c;
}

Big big_inner(const BigMatrix& a, const BigMatrix& b) {
  Big s = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) s += a.v[i] * b.v[i];
  return s;
}

// dL/dp by central differences, each entry of p perturbed in place. Every loss here is affine in
// any single entry, so the quotient has no truncation error: only the 50-digit rounding of
// L(p +- h), relative ~1e-50 / h = 1e-30, far below fp32's 1e-7.
std::vector<Big> central_differences(BigMatrix& p, const std::function<Big()>& loss) {
  const Big h("1e-20");
  std::vector<Big> d(p.v.size());
  for (std::size_t i = 0; i < p.v.size(); ++i) {
    const Big p0 = p.v[i];
    p.v[i] = p0 + h;
    const Big up = loss();
    p.v[i] = p0 - h;
    const Big down = loss();
    p.v[i] = p0;
    d[i] = (up - down) / (2 * h);
  }
  return d;
}

// An fp32 value reached through a chain of n roundings (dot products count one per term) against
// the 50-digit difference quotient: within gamma_n of the formula on |.| (`magnitude`, computed in
// fp32: its own relative error, ~n 2^-24, only moves the metric by that factor). A NaN or Inf in the
// gradient or the quotient makes an error NaN or Inf, which fails.
ValidationResult compare_fd(std::string config, const Matrix& analytic, const std::vector<Big>& fd, const Matrix& magnitude,
                            std::size_t n) {
  std::vector<double> error(fd.size());
  for (std::size_t i = 0; i < fd.size(); ++i) error[i] = static_cast<double>(abs(Big(analytic.v[i]) - fd[i]));
  return within_gamma("finite-differences", std::move(config), error, magnitude, n,
                      fmt::format("|fp32 - fd| / formula on |.|; bound gamma_{} (n roundings)", n));
}

// L = <G, y>: dL/dy = G exactly, so the error budget is the layer's own backward.
std::vector<ValidationResult> lora_finite_differences(Mutant m) {
  const std::size_t t = 3, ic = 10, oc = 6, r = 2;
  const LoraCase c = lora_case(t, ic, oc, r, 11);
  LoraLinear layer = lora_layer(c, lora_config("f32"), m);
  layer.forward(c.x);
  const LoraGrads d = layer.backward(c.g);
  LoraLinear on_abs(absolute(c.w), absolute(c.a), absolute(c.b), c.alpha, lora_config("f32"));
  on_abs.forward(absolute(c.x));
  const LoraGrads mag = on_abs.backward(absolute(c.g));

  BigMatrix x(c.x), w(c.w), a(c.a), b(c.b), g(c.g);
  const Big s = Big(c.alpha) / r;  // the model's s = alpha / r, not the layer's
  const auto loss = [&] { return big_inner(g, big_matmul_nt(x, w)) + s * big_inner(g, big_matmul_nt(big_matmul_nt(x, a), b)); };
  // Roundings on each chain: dx = fl(g W + g_h A), g_h = (s g) B: 1 + OC + r + 1; dA = g_h^T x:
  // 1 + OC + T; dB = (s g)^T h, h = x A^T: 1 + IC + T.
  return {compare_fd("lora dx", d.x, central_differences(x, loss), mag.x, oc + r + 2),
          compare_fd("lora dA", d.a, central_differences(a, loss), mag.a, oc + t + 1),
          compare_fd("lora dB", d.b, central_differences(b, loss), mag.b, ic + t + 1)};
}

std::vector<ValidationResult> weak_finite_differences(Mutant m) {
  const std::size_t t = 2, oc = 8, ic = 64;
  const std::vector<std::int32_t> weak{5, 20, 41};
  const std::size_t k = weak.size(), first = ic - k;
  const WeakRun run = weak_run(t, oc, ic, weak, 21, m);
  const Matrix &x = run.x, &g = run.g, &w4 = run.model.w4, &o = run.model.o;
  const WeakGrads& d = run.d;

  // The formula on |.|: dx = |g| |W4| + [0 | |g| |O|], dO = |g|^T |x[:, IC-k:]|.
  Matrix mag_x = matmul_nt(absolute(g), transpose(absolute(w4)));
  const Matrix mag_xw = matmul_nt(absolute(g), transpose(absolute(o)));
  for (std::size_t r = 0; r < t; ++r)
    for (std::size_t j = 0; j < k; ++j) mag_x(r, first + j) += mag_xw(r, j);
  const Matrix mag_o = matmul_nt(transpose(absolute(g)), transpose(absolute(columns(x, first, ic))));

  // y = x W4^T + x[:, IC-k:] O^T = x (W4 + [0 | O])^T.
  BigMatrix bx(x), bw4(w4), bo(o), bg(g);
  const auto loss = [&] {
    BigMatrix w = bw4;
    for (std::size_t r = 0; r < oc; ++r)
      for (std::size_t j = 0; j < k; ++j) w.v[r * ic + first + j] += bo.v[r * k + j];
    return big_inner(bg, big_matmul_nt(bx, w));
  };
  // dx = fl(g W4) + fl(g O) on the weak columns: OC + 1; dO = g^T x: T.
  return {compare_fd("weak dx", d.x, central_differences(bx, loss), mag_x, oc + 1),
          compare_fd("weak dO", d.oweight, central_differences(bo, loss), mag_o, t)};
}

}  // namespace

std::vector<ValidationResult> validate_finite_differences(Mutant m) {
  std::vector<ValidationResult> r = lora_finite_differences(m);
  for (ValidationResult& w : weak_finite_differences(m)) r.push_back(std::move(w));
  return r;
}

}  // namespace lowbit::training
