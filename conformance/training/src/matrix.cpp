#include "lowbit/training/matrix.hpp"

#include <cmath>

#include "lowbit/error.hpp"

namespace lowbit::training {

Matrix transpose(const Matrix& a) {
  Matrix t(a.cols, a.rows);
  for (std::size_t r = 0; r < a.rows; ++r)
    for (std::size_t c = 0; c < a.cols; ++c) t(c, r) = a(r, c);
  return t;
}

Matrix matmul_nt(const Matrix& a, const Matrix& b) {
  if (a.cols != b.cols) throw Error("matmul_nt: inner dimensions differ");
  Matrix c(a.rows, b.rows);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) {
      const float* x = &a.v[i * a.cols];
      const float* y = &b.v[j * b.cols];
      float acc = 0.0f;
      for (std::size_t k = 0; k < a.cols; ++k) acc += x[k] * y[k];
      c(i, j) = acc;
    }
  return c;
}

Matrix add_scaled(const Matrix& a, float s, const Matrix& b) {
  if (a.rows != b.rows || a.cols != b.cols) throw Error("add_scaled: shapes differ");
  Matrix c = a;
  for (std::size_t i = 0; i < c.v.size(); ++i) c.v[i] = a.v[i] + s * b.v[i];
  return c;
}

Matrix columns(const Matrix& a, std::size_t begin, std::size_t end) {
  if (begin > end || end > a.cols) throw Error("columns: bad range");
  Matrix c(a.rows, end - begin);
  for (std::size_t r = 0; r < a.rows; ++r)
    for (std::size_t j = begin; j < end; ++j) c(r, j - begin) = a(r, j);
  return c;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Matrix gaussian(std::size_t rows, std::size_t cols, float sigma, std::uint64_t seed) {
  Matrix m(rows, cols);
  std::uint64_t state = seed;
  constexpr double kTwoPi = 6.283185307179586;
  for (std::size_t i = 0; i < m.v.size(); i += 2) {
    const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1) * 0x1p-53;  // (0, 1]
    const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1p-53;        // [0, 1)
    const double r = std::sqrt(-2 * std::log(u1)), t = kTwoPi * u2;
    m.v[i] = static_cast<float>(sigma * r * std::cos(t));
    if (i + 1 < m.v.size()) m.v[i + 1] = static_cast<float>(sigma * r * std::sin(t));
  }
  return m;
}

double relative_error(const Matrix& a, const Matrix& b) {
  if (a.v.size() != b.v.size()) throw Error("relative_error: sizes differ");
  double d = 0, n = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) {
    const double e = static_cast<double>(a.v[i]) - b.v[i];
    d += e * e;
    n += static_cast<double>(b.v[i]) * b.v[i];
  }
  return n == 0 ? (d == 0 ? 0 : INFINITY) : std::sqrt(d / n);
}

double cosine(const Matrix& a, const Matrix& b) {
  if (a.v.size() != b.v.size()) throw Error("cosine: sizes differ");
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) {
    ab += static_cast<double>(a.v[i]) * b.v[i];
    aa += static_cast<double>(a.v[i]) * a.v[i];
    bb += static_cast<double>(b.v[i]) * b.v[i];
  }
  return aa == 0 || bb == 0 ? (aa == bb ? 1 : 0) : ab / std::sqrt(aa * bb);
}

}  // namespace lowbit::training
