// The dense matrices of lowbit's training checks: row-major fp32, with the few operations the
// layers need. Every sum has a fixed order (documented per function), so results are reproducible
// bit for bit on every machine.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lowbit::training {

struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<float> v;  // rows x cols, row-major

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c, float fill = 0.0f) : rows(r), cols(c), v(r * c, fill) {}
  float& operator()(std::size_t r, std::size_t c) { return v[r * cols + c]; }
  float operator()(std::size_t r, std::size_t c) const { return v[r * cols + c]; }
  std::size_t size() const { return v.size(); }
};

Matrix transpose(const Matrix& a);
// C = A B^T (A m x k, B n x k) in fp32: c[i][j] = sum over k ascending, one rounding per product
// and per addition, starting from +0.
Matrix matmul_nt(const Matrix& a, const Matrix& b);
// Elementwise a + s * b (fp32, one rounding per operation: fl(a + fl(s * b))).
Matrix add_scaled(const Matrix& a, float s, const Matrix& b);
// Columns [begin, end) of a.
Matrix columns(const Matrix& a, std::size_t begin, std::size_t end);

// The next output of a SplitMix64 generator (state advances by one step): the one source of
// randomness of the training checks.
std::uint64_t splitmix64(std::uint64_t& state);

// Deterministic data: N(0, sigma^2) entries from a SplitMix64-seeded generator (std::mt19937_64
// is portable; std::normal_distribution is not, so the Box-Muller transform is written out).
Matrix gaussian(std::size_t rows, std::size_t cols, float sigma, std::uint64_t seed);

// Frobenius-norm relative error |a - b| / |b| and cosine similarity <a, b> / (|a| |b|), in double.
double relative_error(const Matrix& a, const Matrix& b);
double cosine(const Matrix& a, const Matrix& b);

}  // namespace lowbit::training
